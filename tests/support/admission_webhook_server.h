// A webhook server for tests: HTTPS on 127.0.0.1 with a certificate for
// that address from a CA of its own (caBundle()), answering AdmissionReviews
// with what the test's `answer` function returns and recording every review
// it received. kube-apiserver of the real control plane and the sandbox both
// reach it through clientConfig.url.
#pragma once

#include "http/certificates.h"
#include "http/server.h"
#include "kube/base64.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::testing {

class AdmissionWebhookServer {
 public:
  using json = nlohmann::json;
  // Gets the AdmissionReview's request; returns the response (its uid is
  // filled in unless the function sets one).
  using Answer = std::function<json(const json& request)>;

  explicit AdmissionWebhookServer(Answer answer) : answer_(std::move(answer)) {
    http::KeyPair serving = ca_.issueServer("webhook", {"localhost"}, {"127.0.0.1"});
    http::ServerConfig config;
    config.name = "test-webhook";
    config.tls = http::TlsConfig{serving.certificatePem, serving.privateKeyPem, "", false};
    server_ = std::make_unique<http::HttpServer>(
        config, [this](const http::Request& request, http::Responder& responder) {
          json review = json::parse(request.body, nullptr, false);
          json req = review.is_object() ? review.value("request", json::object()) : json();
          Answer answer;
          {
            std::lock_guard<std::mutex> lock(mu_);
            received_.push_back({request.path, request.rawQuery, req});
            answer = answer_;
          }
          json response = answer(req);
          if (!response.contains("uid")) response["uid"] = req.value("uid", "");
          json out = {{"apiVersion", "admission.k8s.io/v1"},
                      {"kind", "AdmissionReview"},
                      {"response", response}};
          responder.send(http::Response::json(200, out.dump()));
        });
    auto error = server_->start();
    if (error) throw std::runtime_error(*error);
  }
  ~AdmissionWebhookServer() { stop(); }

  void stop() { server_->stop(); }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  uint16_t port() const { return server_->port(); }
  // clientConfig.caBundle: the CA's PEM, base64.
  std::string caBundle() const { return kube::encodeBase64(ca_.ca().certificatePem); }
  void setAnswer(Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answer_ = std::move(answer);
  }

  struct Received {
    std::string path;
    std::string query;
    json request;  // the AdmissionReview's request
  };
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

  static json allow() { return {{"allowed", true}}; }
  // A JSONPatch answer.
  static json patch(const json& operations) {
    return {{"allowed", true},
            {"patchType", "JSONPatch"},
            {"patch", kube::encodeBase64(operations.dump())}};
  }

 private:
  // A CA name of its own: Go's verifier words a failure differently when a
  // CA of the same name but another key is offered.
  static std::string caName() {
    static std::atomic<int> n{0};
    return "test-webhook-ca-" + std::to_string(++n);
  }
  http::CertificateAuthority ca_{caName()};
  std::unique_ptr<http::HttpServer> server_;
  mutable std::mutex mu_;  // guards answer_ and received_
  Answer answer_;
  std::vector<Received> received_;
};

}  // namespace remedy::testing
