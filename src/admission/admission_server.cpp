#include "admission/admission_server.h"

#include <spdlog/spdlog.h>

namespace remedy::admission {

AdmissionServer::AdmissionServer(const ApprovalAdmission& admission, AdmissionServerOptions options)
    : admission_(admission), options_(std::move(options)) {}

AdmissionServer::~AdmissionServer() { stop(); }

http::Response AdmissionServer::handle(const http::Request& request) const {
  bool mutating = request.path == "/admission/v1/mutate";
  if (!mutating && request.path != "/admission/v1/validate") {
    return http::Response::text(404, "not found\n");
  }
  if (request.method != "POST") {
    http::Response r = http::Response::text(405, "admission reviews are POSTed\n");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  auto began = std::chrono::steady_clock::now();
  auto parsed = parseAdmissionReview(request.body);
  if (!parsed.ok()) return http::Response::text(400, parsed.status().message() + "\n");
  const AdmissionRequest& review = *parsed;
  AdmissionResponse answer;
  try {
    answer = mutating ? admission_.mutate(review) : admission_.validate(review);
  } catch (const std::exception& e) {
    // Never an unanswered request: a denial, so the API server fails closed.
    spdlog::error("admission: {} {} {}/{}: {}", review.operation, review.resource,
                  review.namespace_, review.name, e.what());
    answer = AdmissionResponse::deny(500, kube::reason::kInternalError,
                                     "Remedy's admission webhook failed: " + std::string(e.what()));
  }
  auto took = std::chrono::steady_clock::now() - began;
  spdlog::info(
      "admission webhook={} operation={} resource={} object={}/{} user={} allowed={} patched={} "
      "durationMs={}{}",
      mutating ? "mutate" : "validate", review.operation, review.resource, review.namespace_,
      review.name, review.userInfo.username, answer.allowed, !answer.patch.empty(),
      std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
      answer.allowed ? "" : " reason=\"" + answer.status.value("message", "") + "\"");
  if (options_.observe) {
    options_.observe(mutating ? "mutate" : "validate", review, answer,
                     std::chrono::duration_cast<std::chrono::nanoseconds>(took));
  }
  return http::Response::json(200, admissionReviewResponse(review.uid, answer).dump());
}

std::optional<std::string> AdmissionServer::start() {
  if (options_.tls.certificatePem.empty() || options_.tls.privateKeyPem.empty()) {
    return "admission webhook: a serving certificate and key are required (kube-apiserver calls "
           "webhooks over HTTPS only)";
  }
  http::ServerConfig config;
  config.bindAddress = options_.bindAddress;
  config.port = options_.port;
  config.tls = options_.tls;
  config.maxBodyBytes = options_.maxBodyBytes;
  config.maxConnections = options_.maxConnections;
  config.idleTimeout = options_.idleTimeout;
  config.name = "admission";
  server_ = std::make_unique<http::HttpServer>(
      config, [this](const http::Request& request, http::Responder& responder) {
        responder.send(handle(request));
      });
  if (auto error = server_->start()) {
    server_.reset();
    return "admission webhook: " + *error;
  }
  spdlog::info("admission: serving the admission webhooks over HTTPS on {}:{}",
               options_.bindAddress, server_->port());
  return std::nullopt;
}

void AdmissionServer::stop() {
  if (server_) server_->stop();
}

uint16_t AdmissionServer::port() const { return server_ ? server_->port() : 0; }

std::optional<std::string> AdmissionServer::reloadTls(const http::TlsConfig& tls) {
  if (!server_) return "admission webhook: not serving";
  return server_->reloadTls(tls);
}

}  // namespace remedy::admission
