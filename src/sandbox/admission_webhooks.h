// Admission webhooks as kube-apiserver v1.33 calls them (the
// MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins,
// k8s.io/apiserver pkg/admission/plugin/webhook): every
// MutatingWebhookConfiguration and ValidatingWebhookConfiguration written to
// the sandbox applies to the writes of API clients.
//
// - Matching (generic/webhook.go ShouldCallHook): namespaceSelector (the
//   namespace's labels; cluster-scoped objects always match),
//   objectSelector (the object's or the old object's labels), then rules
//   (operations, apiGroups, apiVersions, resources with "*" and "res/sub",
//   scope). Writes of webhook configurations themselves are exempt.
// - Calling: an AdmissionReview v1 POSTed to clientConfig.url (or
//   https://NAME.NAMESPACE.svc:PORT/PATH for a service, which resolves only
//   where such a name resolves), HTTPS verified against caBundle (or the
//   system's roots), with ?timeout=Ns, within timeoutSeconds (default 10).
//   The review carries the user the sandbox authenticated (the impersonated
//   one, if any), the object, the old object, dryRun and the options.
// - Mutating webhooks run in name order of their configurations, in order
//   within one, each on the previous one's result; their JSONPatch applies
//   before the schema is enforced (so a webhook's unknown field is pruned).
//   Validating webhooks see the final object after validation.
// - Failures, in kube-apiserver's words: a webhook that cannot be called
//   (or answers what VerifyAdmissionResponse refuses) fails the request with
//   500 "Internal error occurred: failed calling webhook ..." unless its
//   failurePolicy is Ignore; a denial reaches the client as "admission
//   webhook "NAME" denied the request: ..." with the webhook's code, reason
//   and causes; a dry run reaching a webhook with side effects is 400.
//
// Not done: matchPolicy Equivalent (the sandbox serves one version of each
// resource), matchConditions (CEL; a webhook with them is called as if they
// matched), reinvocationPolicy IfNeeded, DELETE and CONNECT operations, and
// the writes of the sandbox's own controllers (the workload simulator,
// garbage collection), which kube-controller-manager would send through
// webhooks.
#pragma once

#include "sandbox/objects.h"
#include "sandbox/store.h"

#include <optional>
#include <string>

namespace remedy::sandbox {

class AdmissionWebhooks : public AdmissionChain {
 public:
  // Reads the webhook configurations and namespaces from `store` at every
  // call, so configurations written by any client apply at once.
  explicit AdmissionWebhooks(const Store& store) : store_(store) {}

  bool applies(const AdmissionAttributes& attributes) const override;
  std::optional<ApiError> mutate(const AdmissionAttributes& attributes, json& object,
                                 const json* old) const override;
  std::optional<ApiError> validate(const AdmissionAttributes& attributes, const json& object,
                                   const json* old) const override;

 private:
  std::vector<json> hooks(const char* resource) const;
  // Whether `hook` applies to the request, or the error matching it raised.
  Result<bool> matches(const json& hook, const AdmissionAttributes& attributes, const json* object,
                       const json* old) const;

  const Store& store_;
};

// admissionregistration/v1 defaults (pkg/apis/admissionregistration/v1/defaults.go)
// and validation (pkg/apis/admissionregistration/validation), for
// MutatingWebhookConfiguration and ValidatingWebhookConfiguration objects.
void defaultWebhookConfiguration(json& configuration, bool mutating);
std::vector<StatusCause> validateWebhookConfiguration(const json& configuration, bool mutating);

}  // namespace remedy::sandbox
