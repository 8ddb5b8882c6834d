// The webhook on its own port: an http::HttpServer (HTTP/1.1, optional TLS
// with client certificates) in front of an AlertIntake.
#pragma once

#include "http/server.h"
#include "intake/alert_intake.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace remedy::intake {

struct AlertIntakeServerOptions {
  std::string bindAddress = "0.0.0.0";
  uint16_t port = 9443;  // 0: any free port, see port()
  // HTTPS. With clientCaPem and requireClientCertificate, a client without
  // a certificate signed by that CA never completes the handshake.
  std::optional<http::TlsConfig> tls;
  size_t maxConnections = 64;
  size_t maxHeaderBytes = 16 * 1024;
  // A connection idle this long, or a request this slow to arrive, is closed.
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(30)};
};

class AlertIntakeServer {
 public:
  AlertIntakeServer(kube::Client& client, prometheus::Registry& registry,
                    AlertIntakeOptions intakeOptions, AlertIntakeServerOptions serverOptions);
  ~AlertIntakeServer();
  AlertIntakeServer(const AlertIntakeServer&) = delete;
  AlertIntakeServer& operator=(const AlertIntakeServer&) = delete;

  // Starts the intake, then listens. Refuses to start a webhook that anyone
  // could post to: a bearer token file or required client certificates must
  // be configured.
  std::optional<std::string> start();
  // Stops listening (joining every connection thread), then the intake.
  void stop();
  uint16_t port() const;
  AlertIntake& intake() { return intake_; }

 private:
  AlertIntake intake_;
  const AlertIntakeServerOptions options_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace remedy::intake
