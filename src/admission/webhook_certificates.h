// The admission webhooks' serving certificate, and the caBundle that lets
// kube-apiserver trust it.
//
// Two sources:
// - A Secret the operator manages (the default): one kubernetes.io/tls
//   Secret holds a CA (ca.crt, ca.key) and a serving certificate it signed
//   (tls.crt, tls.key) for the Service's DNS names (and IP addresses, for a
//   webhook URL on loopback). The first replica to start creates it when it
//   is absent; every replica reads it. A serving certificate within
//   `renewBefore` of expiry, or lacking a needed name, is reissued from the
//   same CA (so the caBundle stays valid); a resourceVersion precondition
//   lets one replica win and the others re-read. Only the leader writes the
//   CA into the caBundle of the named webhook configurations, so two
//   replicas never fight over them; it checks them again on every pass,
//   which also repairs a caBundle that `helm upgrade` emptied.
// - Files (cert-manager, or anything else that mounts a certificate): read
//   at start and again when they change; the caBundle is someone else's job
//   (cert-manager's cainjector).
//
// Private keys never reach logs, Events or status: messages name the Secret
// and the problem, never its data.
#pragma once

#include "http/certificates.h"
#include "http/server.h"
#include "kube/client.h"
#include "kube/clock.h"
#include "kube/named_thread.h"
#include "kube/stop_signal.h"

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::admission {

struct ServingBundle {
  http::KeyPair serving;
  std::string caPem;  // what kube-apiserver must trust
};

struct WebhookCertificatesOptions {
  // Secret mode: the Secret's namespace and name.
  std::string secretNamespace;
  std::string secretName;
  // Names the serving certificate must carry: the Service's DNS names
  // (NAME.NAMESPACE.svc, ...) and, for a webhook URL on an IP address,
  // that address.
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  kube::Duration renewBefore = std::chrono::hours(24 * 30);
  // File mode (when certFile is set): PEM files.
  std::string certFile;
  std::string keyFile;
  std::string caFile;  // optional; the caBundle is not injected in file mode
  // The webhook configurations whose caBundle the leader keeps (Secret mode).
  std::vector<std::string> mutatingConfigurations;
  std::vector<std::string> validatingConfigurations;
  // How often the certificate and the caBundles are checked.
  kube::Duration checkInterval = std::chrono::minutes(1);
  std::string fieldManager = "remedy-operator";
};

class WebhookCertificates {
 public:
  WebhookCertificates(kube::Client& client, WebhookCertificatesOptions options,
                      const kube::Clock& clock);
  ~WebhookCertificates();

  // The certificate to serve now: read, created or renewed (Secret mode), or
  // read from the files.
  kube::Result<ServingBundle> load();

  // Writes the CA into every webhook's clientConfig.caBundle of the named
  // configurations where it differs. Returns the number of configurations
  // changed; a configuration that does not exist is an error (NotFound).
  kube::Result<int> injectCaBundle(const std::string& caPem);

  // Checks every checkInterval on a thread of its own ("webhook-certs"):
  // calls `onChange` with a renewed or changed certificate, and, while
  // `leading()` is true, keeps the caBundles (Secret mode).
  void start(std::function<void(const ServingBundle&)> onChange, std::function<bool()> leading);
  void stop();

  bool secretMode() const { return options_.certFile.empty(); }

 private:
  kube::Result<ServingBundle> loadFromSecret();
  kube::Result<ServingBundle> loadFromFiles();
  void check();

  kube::Client& client_;
  WebhookCertificatesOptions options_;
  const kube::Clock& clock_;
  std::function<void(const ServingBundle&)> onChange_;
  std::function<bool()> leading_;
  kube::StopSignal stop_;
  kube::NamedThread thread_;
  std::mutex mu_;  // guards current_
  ServingBundle current_;
};

// The webhook configuration resources (admissionregistration.k8s.io/v1).
kube::Resource mutatingWebhookConfigurations();
kube::Resource validatingWebhookConfigurations();

}  // namespace remedy::admission
