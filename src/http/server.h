// A small HTTP/1.1 server over POSIX sockets and OpenSSL, one thread per
// connection.
//
// Why not cpprestsdk's http_listener: the sandbox authenticates clients by
// their X.509 certificate, and http_listener does not expose the peer
// certificate to handlers; it also cannot end a streaming response on demand
// (a watch closed by fault injection). This server gives handlers the verified
// peer identity and a chunked stream they own until they return.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remedy::http {

// The subject of a client certificate that the server verified against its
// client CA.
struct PeerCertificate {
  std::string commonName;
  std::vector<std::string> organizations;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: path plus query
  std::string path;    // percent-decoded path, without the query
  std::string rawQuery;
  // Query parameters, percent-decoded. A repeated key keeps every value.
  std::multimap<std::string, std::string> query;
  // Header names are lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::optional<PeerCertificate> peer;
  std::string remoteAddress;

  // The first value of a query parameter, if present.
  std::optional<std::string> param(const std::string& name) const;
  // The value of a header (name in any case), or "".
  std::string header(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body);
};

// A chunked response body that a handler writes while it runs.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Writes one chunk and flushes it. False once the client has gone.
  virtual bool write(std::string_view data) = 0;
  // True when the peer closed the connection or sent something (a client
  // sends nothing while it reads a streaming response).
  virtual bool peerClosed() = 0;
};

// What a handler answers with: either a whole response, or a stream that
// stays open until the handler returns.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void send(Response response) = 0;
  virtual ResponseStream& startStream(int status,
                                      std::vector<std::pair<std::string, std::string>> headers) = 0;
};

using Handler = std::function<void(const Request&, Responder&)>;

struct TlsConfig {
  std::string certificatePem;  // serving certificate (and chain)
  std::string privateKeyPem;
  // When set, clients may present a certificate signed by this CA; the
  // verified subject is passed on Request::peer.
  std::string clientCaPem;
  bool requireClientCertificate = false;
};

// Decides, from a request's line and header fields (and the peer's
// certificate), before its body is read, whether the client may go on:
// std::nullopt admits it, a Response refuses it (sent at once, the body
// left unread, the connection closed).
using Admission = std::function<std::optional<Response>(const Request&)>;

struct ServerConfig {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see HttpServer::port()
  std::optional<TlsConfig> tls;
  // Bounds on each request; see request_reader.h.
  size_t maxHeaderBytes = 64 * 1024;
  size_t maxHeaderFields = 256;
  size_t maxBodyBytes = 3 * 1024 * 1024;  // the API server's default limit
  // Connections open at once. A connection is "pending" from its accept
  // until a request of it is admitted (by `admit`, or by its header section
  // having been read when there is no `admit`), and "admitted" from then on.
  // Pending connections hold at most maxConnections - reservedConnections
  // slots, so the reserved ones stay for admitted clients. A new connection
  // that finds no slot for a pending one closes the oldest pending
  // connection (one that has not sent an admissible header section in all
  // that time: a slow or idle client) to take its place; when every slot is
  // admitted, the new connection is closed.
  size_t maxConnections = 1024;
  size_t reservedConnections = 0;
  Admission admit;
  // A connection idle this long between requests is closed, and so is one
  // whose write makes no progress for this long.
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(60)};
  // Deadlines for each request, however its bytes are spread out: its header
  // section must be read within headerTimeout, and the whole request, body
  // included, within requestTimeout, both counted from the request's first
  // byte (for a connection's first request, from the accept, so the TLS
  // handshake counts too). A request past either is dropped with the
  // connection, unanswered.
  std::chrono::milliseconds headerTimeout{std::chrono::seconds(10)};
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(60)};
  std::string name = "http";  // for thread names
};

class HttpServer {
 public:
  HttpServer(ServerConfig config, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Returns an error message on failure.
  std::optional<std::string> start();
  // Stops accepting, closes every connection (ending streams) and joins all
  // threads. Handlers still running must notice peerClosed()/write() failing.
  void stop();
  uint16_t port() const;
  bool tls() const;
  // Connections open now, by their state (see ServerConfig::maxConnections).
  struct ConnectionCounts {
    size_t pending = 0;
    size_t admitted = 0;
    size_t closedForRoom = 0;  // since start(): pending ones closed for a new one
  };
  ConnectionCounts connections() const;
  // Serves new connections with another certificate and key (a renewed
  // certificate); connections already open keep theirs. Only for a server
  // started with TLS; returns an error message and keeps the old one when
  // the new one is unusable.
  std::optional<std::string> reloadTls(const TlsConfig& tls);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding of a URL component ('+' is kept as is in paths).
std::string percentDecode(std::string_view in, bool plusAsSpace);

}  // namespace remedy::http
