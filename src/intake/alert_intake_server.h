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
  // Connections open at once, of which reservedConnections are kept for
  // authenticated clients: a client is authenticated once the header fields
  // of its request carry the bearer token (or, with required client
  // certificates, once its TLS handshake is done and it sent a request
  // line and header fields). Clients not yet authenticated share the other
  // slots; when they hold them all, a new connection closes the oldest of
  // them (see http::ServerConfig). Alertmanager, which sends its header
  // fields at once, thus gets in past any number of slow or idle
  // connections. No cap per client address: Alertmanager may sit behind a
  // sidecar or NAT, with every other client on the same address.
  size_t maxConnections = 64;
  size_t reservedConnections = 16;
  size_t maxHeaderBytes = 16 * 1024;
  // A connection idle this long between requests is closed.
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(30)};
  // A request's header fields must arrive within headerTimeout, and the
  // whole request within requestTimeout, from its first byte (the TLS
  // handshake included), however slowly its bytes trickle in.
  std::chrono::milliseconds headerTimeout{std::chrono::seconds(10)};
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(30)};
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
  // The webhook's open connections (zero before start()).
  http::HttpServer::ConnectionCounts connections() const;
  AlertIntake& intake() { return intake_; }

 private:
  AlertIntake intake_;
  const AlertIntakeServerOptions options_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace remedy::intake
