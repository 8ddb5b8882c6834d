#include "admission/webhook_certificates.h"

#include "kube/base64.h"
#include "kube/retry.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace remedy::admission {

using json = nlohmann::json;

namespace {

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string dataValue(const json& secret, const char* key) {
  auto data = secret.value("data", json::object());
  if (!data.is_object() || !data.contains(key) || !data[key].is_string()) return "";
  auto decoded = kube::decodeBase64(data[key].get<std::string>());
  return decoded.ok() ? *decoded : "";
}

bool covers(const std::vector<std::string>& have, const std::vector<std::string>& need) {
  return std::all_of(need.begin(), need.end(), [&](const std::string& n) {
    return std::find(have.begin(), have.end(), n) != have.end();
  });
}

// Why the serving certificate of `secret` cannot be served as it is, or "".
std::string servingProblem(const ServingBundle& b, const WebhookCertificatesOptions& o,
                           kube::WallTime now) {
  http::CertificateInfo info = http::inspectCertificate(b.serving.certificatePem);
  if (!info.valid) return "it holds no serving certificate";
  if (!http::issuedBy(b.serving, b.caPem)) return "its serving certificate is not from its CA";
  if (info.notAfter - o.renewBefore <= now) return "its serving certificate expires soon";
  if (!covers(info.dnsNames, o.dnsNames) || !covers(info.ipAddresses, o.ipAddresses)) {
    return "its serving certificate lacks a needed name";
  }
  return "";
}

std::string commonNameFor(const WebhookCertificatesOptions& o) {
  if (!o.dnsNames.empty()) return o.dnsNames.front();
  if (!o.ipAddresses.empty()) return o.ipAddresses.front();
  return "remedy-admission";
}

json secretFor(const WebhookCertificatesOptions& o, const std::string& caPem,
               const std::string& caKeyPem, const http::KeyPair& serving) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata",
           {{"name", o.secretName},
            {"namespace", o.secretNamespace},
            {"labels", {{"app.kubernetes.io/managed-by", "remedy-operator"}}}}},
          {"type", "kubernetes.io/tls"},
          {"data",
           {{"tls.crt", kube::encodeBase64(serving.certificatePem)},
            {"tls.key", kube::encodeBase64(serving.privateKeyPem)},
            {"ca.crt", kube::encodeBase64(caPem)},
            {"ca.key", kube::encodeBase64(caKeyPem)}}}};
}

}  // namespace

kube::Resource mutatingWebhookConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
          "MutatingWebhookConfiguration", false};
}

kube::Resource validatingWebhookConfigurations() {
  return {"admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
          "ValidatingWebhookConfiguration", false};
}

WebhookCertificates::WebhookCertificates(kube::Client& client, WebhookCertificatesOptions options,
                                         const kube::Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

WebhookCertificates::~WebhookCertificates() { stop(); }

kube::Result<ServingBundle> WebhookCertificates::load() {
  auto loaded = secretMode() ? loadFromSecret() : loadFromFiles();
  if (loaded.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = *loaded;
  }
  return loaded;
}

kube::Result<ServingBundle> WebhookCertificates::loadFromFiles() {
  ServingBundle b;
  auto cert = readFile(options_.certFile);
  auto key = readFile(options_.keyFile);
  if (!cert || !key) {
    return kube::Status::configError("cannot read the admission webhook's certificate (" +
                                     options_.certFile + ") or key (" + options_.keyFile + ")");
  }
  b.serving = {*cert, *key};
  if (!options_.caFile.empty()) {
    auto ca = readFile(options_.caFile);
    if (!ca) return kube::Status::configError("cannot read " + options_.caFile);
    b.caPem = *ca;
  }
  if (!http::inspectCertificate(b.serving.certificatePem).valid) {
    return kube::Status::configError(options_.certFile + " holds no PEM certificate");
  }
  return b;
}

kube::Result<ServingBundle> WebhookCertificates::loadFromSecret() {
  const kube::Resource secrets = kube::resources::secrets();
  std::string where = "secret " + options_.secretNamespace + "/" + options_.secretName;
  // A few rounds: another replica may create or renew it at the same time.
  for (int round = 0; round < 5; ++round) {
    auto got = client_.get(secrets, options_.secretNamespace, options_.secretName);
    if (!got.ok() && !kube::isNotFound(got.status())) {
      return got.status().withContext("read " + where);
    }
    if (!got.ok()) {
      http::CertificateAuthority ca("remedy-admission-ca");
      http::KeyPair serving =
          ca.issueServer(commonNameFor(options_), options_.dnsNames, options_.ipAddresses);
      json secret = secretFor(options_, ca.ca().certificatePem, ca.ca().privateKeyPem, serving);
      kube::WriteOptions wo;
      wo.fieldManager = options_.fieldManager;
      auto created = client_.create(secrets, options_.secretNamespace, secret, wo);
      if (created.ok()) {
        spdlog::info("admission: created {} with a new CA and serving certificate", where);
        return ServingBundle{serving, ca.ca().certificatePem};
      }
      if (kube::isAlreadyExists(created.status())) continue;  // another replica was first
      return created.status().withContext("create " + where);
    }
    ServingBundle b{{dataValue(*got, "tls.crt"), dataValue(*got, "tls.key")},
                    dataValue(*got, "ca.crt")};
    std::string problem = servingProblem(b, options_, clock_.wallNow());
    if (problem.empty()) return b;
    // Renew: from the same CA when it is usable and lasts, else a new CA.
    std::string caKey = dataValue(*got, "ca.key");
    http::CertificateInfo caInfo = http::inspectCertificate(b.caPem);
    std::unique_ptr<http::CertificateAuthority> ca;
    if (caInfo.valid && !caKey.empty() &&
        caInfo.notAfter - options_.renewBefore * 2 > clock_.wallNow()) {
      try {
        ca = std::make_unique<http::CertificateAuthority>(http::KeyPair{b.caPem, caKey});
      } catch (const std::exception&) {
        ca.reset();
      }
    }
    if (!ca) ca = std::make_unique<http::CertificateAuthority>("remedy-admission-ca");
    http::KeyPair serving =
        ca->issueServer(commonNameFor(options_), options_.dnsNames, options_.ipAddresses);
    json secret = secretFor(options_, ca->ca().certificatePem, ca->ca().privateKeyPem, serving);
    secret["metadata"]["resourceVersion"] = (*got)["metadata"].value("resourceVersion", "");
    if (got->contains("metadata") && (*got)["metadata"].contains("labels")) {
      for (auto& [k, v] : (*got)["metadata"]["labels"].items()) {
        secret["metadata"]["labels"][k] = v;
      }
    }
    kube::WriteOptions wo;
    wo.fieldManager = options_.fieldManager;
    auto updated = client_.update(secrets, options_.secretNamespace, secret, wo);
    if (updated.ok()) {
      spdlog::info("admission: renewed the serving certificate in {}: {}", where, problem);
      return ServingBundle{serving, ca->ca().certificatePem};
    }
    if (kube::isConflict(updated.status())) continue;  // another replica renewed it
    return updated.status().withContext("renew " + where);
  }
  return kube::Status::error(409, kube::reason::kConflict,
                             where + " kept changing while it was read; try again");
}

kube::Result<int> WebhookCertificates::injectCaBundle(const std::string& caPem) {
  std::string bundle = kube::encodeBase64(caPem);
  int changed = 0;
  auto inject = [&](const kube::Resource& resource, const std::string& name) -> kube::Status {
    return kube::retryOnConflict(kube::defaultRetry(), [&]() -> kube::Status {
      auto got = client_.get(resource, "", name);
      if (!got.ok()) return got.status().withContext("read " + resource.kind + " " + name);
      json config = *got;
      bool differs = false;
      if (config.contains("webhooks") && config["webhooks"].is_array()) {
        for (auto& hook : config["webhooks"]) {
          json& cc = hook["clientConfig"];
          if (cc.value("caBundle", "") != bundle) {
            cc["caBundle"] = bundle;
            differs = true;
          }
        }
      }
      if (!differs) return kube::Status();
      kube::WriteOptions wo;
      wo.fieldManager = options_.fieldManager;
      auto updated = client_.update(resource, "", config, wo);
      if (updated.ok()) {
        ++changed;
        spdlog::info("admission: wrote the CA into the caBundle of {} {}", resource.kind, name);
      }
      return updated.status();
    });
  };
  for (const auto& name : options_.mutatingConfigurations) {
    if (auto s = inject(mutatingWebhookConfigurations(), name); !s.ok()) return s;
  }
  for (const auto& name : options_.validatingConfigurations) {
    if (auto s = inject(validatingWebhookConfigurations(), name); !s.ok()) return s;
  }
  return changed;
}

void WebhookCertificates::start(std::function<void(const ServingBundle&)> onChange,
                                std::function<bool()> leading) {
  onChange_ = std::move(onChange);
  leading_ = std::move(leading);
  thread_ = kube::NamedThread("webhook-certs", [this] {
    while (!stop_.stopRequested()) {
      check();
      if (stop_.waitFor(clock_, options_.checkInterval)) break;
    }
  });
}

void WebhookCertificates::check() {
  ServingBundle before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = current_;
  }
  auto loaded = load();
  if (!loaded.ok()) {
    spdlog::warn("admission: the webhook certificate could not be checked: {}",
                 loaded.status().toString());
    return;
  }
  if (loaded->serving.certificatePem != before.serving.certificatePem ||
      loaded->serving.privateKeyPem != before.serving.privateKeyPem) {
    if (onChange_) onChange_(*loaded);
  }
  if (secretMode() && leading_ && leading_()) {
    auto injected = injectCaBundle(loaded->caPem);
    if (!injected.ok()) {
      spdlog::warn("admission: the caBundle of the webhook configurations could not be written: {}",
                   injected.status().toString());
    }
  }
}

void WebhookCertificates::stop() {
  stop_.requestStop();
  thread_.join();
}

}  // namespace remedy::admission
