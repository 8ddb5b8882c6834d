// The admission webhooks over HTTPS: an http::HttpServer in front of an
// ApprovalAdmission, on every replica (kube-apiserver calls whichever the
// Service or URL reaches).
//
// Paths (POST, AdmissionReview v1): /admission/v1/mutate and
// /admission/v1/validate. kube-apiserver appends ?timeout=Ns; the answer
// comes well within it (one GET of an Incident at most). A body that is not
// an AdmissionReview gets 400; bodies are bounded (maxBodyBytes, 413 before
// reading).
#pragma once

#include "admission/approval_admission.h"
#include "http/server.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace remedy::admission {

struct AdmissionServerOptions {
  std::string bindAddress = "0.0.0.0";
  uint16_t port = 9444;  // 0: any free port, see port()
  // Required: kube-apiserver calls webhooks over HTTPS only.
  http::TlsConfig tls;
  // An AdmissionReview carries the object and the old object.
  size_t maxBodyBytes = 8 * 1024 * 1024;
  size_t maxConnections = 128;
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(60)};
  // Called after each review (for metrics): "mutate" or "validate", the
  // request and the answer.
  std::function<void(const std::string& webhook, const AdmissionRequest&, const AdmissionResponse&,
                     std::chrono::nanoseconds)>
      observe;
};

class AdmissionServer {
 public:
  AdmissionServer(const ApprovalAdmission& admission, AdmissionServerOptions options);
  ~AdmissionServer();
  AdmissionServer(const AdmissionServer&) = delete;
  AdmissionServer& operator=(const AdmissionServer&) = delete;

  std::optional<std::string> start();
  void stop();
  uint16_t port() const;
  // A renewed serving certificate, for new connections.
  std::optional<std::string> reloadTls(const http::TlsConfig& tls);

  // The answer to one request (what the server sends; for tests).
  http::Response handle(const http::Request& request) const;

 private:
  const ApprovalAdmission& admission_;
  AdmissionServerOptions options_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace remedy::admission
