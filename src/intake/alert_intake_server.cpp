#include "intake/alert_intake_server.h"

#include <spdlog/spdlog.h>

namespace remedy::intake {

AlertIntakeServer::AlertIntakeServer(kube::Client& client, prometheus::Registry& registry,
                                     AlertIntakeOptions intakeOptions,
                                     AlertIntakeServerOptions serverOptions)
    : intake_(client, registry, std::move(intakeOptions)), options_(std::move(serverOptions)) {}

AlertIntakeServer::~AlertIntakeServer() { stop(); }

std::optional<std::string> AlertIntakeServer::start() {
  bool clientCertificates =
      options_.tls && options_.tls->requireClientCertificate && !options_.tls->clientCaPem.empty();
  if (intake_.options().bearerTokenFile.empty() && !clientCertificates) {
    return "alert webhook: neither a bearer token file nor required client certificates are "
           "configured, so anyone could create Incidents";
  }
  if (options_.tls && options_.tls->requireClientCertificate && options_.tls->clientCaPem.empty()) {
    return "alert webhook: client certificates are required but no client CA is given";
  }
  if (options_.reservedConnections >= options_.maxConnections) {
    return "alert webhook: reservedConnections (" + std::to_string(options_.reservedConnections) +
           ") must be fewer than maxConnections (" + std::to_string(options_.maxConnections) + ")";
  }
  if (auto error = intake_.start()) return "alert webhook: " + *error;
  http::ServerConfig config;
  config.bindAddress = options_.bindAddress;
  config.port = options_.port;
  config.tls = options_.tls;
  config.maxHeaderBytes = options_.maxHeaderBytes;
  // The server answers 413 itself, before reading a larger body.
  config.maxBodyBytes = intake_.options().maxBodyBytes;
  config.maxConnections = options_.maxConnections;
  config.reservedConnections = options_.reservedConnections;
  config.idleTimeout = options_.idleTimeout;
  config.headerTimeout = options_.headerTimeout;
  config.requestTimeout = options_.requestTimeout;
  // The path, method and bearer token are checked as soon as the header
  // fields are read, before the body.
  config.admit = [this](const http::Request& request) { return intake_.admit(request); };
  config.name = "intake";
  server_ = std::make_unique<http::HttpServer>(
      config, [this](const http::Request& request, http::Responder& responder) {
        responder.send(intake_.handle(request));
      });
  if (auto error = server_->start()) {
    server_.reset();
    intake_.stop();
    return "alert webhook: " + *error;
  }
  if (!options_.tls) {
    spdlog::warn(
        "intake: serving the alert webhook over plain HTTP on {}:{}; use TLS unless "
        "the network between Alertmanager and Remedy is trusted",
        options_.bindAddress, server_->port());
  } else {
    spdlog::info("intake: serving the alert webhook over HTTPS on {}:{}{}", options_.bindAddress,
                 server_->port(), clientCertificates ? " (client certificates required)" : "");
  }
  return std::nullopt;
}

void AlertIntakeServer::stop() {
  if (server_) server_->stop();
  intake_.stop();
}

uint16_t AlertIntakeServer::port() const { return server_ ? server_->port() : 0; }

http::HttpServer::ConnectionCounts AlertIntakeServer::connections() const {
  return server_ ? server_->connections() : http::HttpServer::ConnectionCounts{};
}

}  // namespace remedy::intake
