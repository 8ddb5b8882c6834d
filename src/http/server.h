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

struct ServerConfig {
  std::string bindAddress = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see HttpServer::port()
  std::optional<TlsConfig> tls;
  // Bounds on each request; see request_reader.h.
  size_t maxHeaderBytes = 64 * 1024;
  size_t maxHeaderFields = 256;
  size_t maxBodyBytes = 3 * 1024 * 1024;  // the API server's default limit
  size_t maxConnections = 1024;
  // A connection idle this long between requests is closed; a request that
  // takes longer than this to arrive is dropped.
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(60)};
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
