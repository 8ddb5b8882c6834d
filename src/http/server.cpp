#include "http/server.h"

#include "http/request_reader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>

namespace remedy::http {

namespace {

const char* reasonPhrase(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

void setThreadName(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

std::string opensslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Loads every certificate of a PEM bundle into a store.
bool addPemCertificates(X509_STORE* store, STACK_OF(X509_NAME) * names, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return false;
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    if (names) sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(cert)));
    X509_free(cert);
    ++added;
  }
  ERR_clear_error();
  BIO_free(bio);
  return added > 0;
}

}  // namespace

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

namespace {

using Clock = std::chrono::steady_clock;

// One accepted connection; all I/O on it happens on its own thread. The
// socket is non-blocking: every wait is a poll() bounded by the deadline of
// the request being read (or by idleTimeout between requests and for
// writes), so no sequence of reads, however slow each byte, outlasts it.
class Connection : public Responder, public ResponseStream {
 public:
  // `onAdmitted` is called (once) when a request of the connection is
  // admitted.
  Connection(int fd, SSL* ssl, std::string remote, const ServerConfig& config,
             std::function<void()> onAdmitted)
      : fd_(fd),
        ssl_(ssl),
        remote_(std::move(remote)),
        config_(config),
        onAdmitted_(std::move(onAdmitted)) {}
  ~Connection() override {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
  }

  void shutdownSocket() { ::shutdown(fd_, SHUT_RDWR); }

  void serve(const Handler& handler) {
    // The first request's deadlines count from the accept: a client that
    // connects and sends nothing, or drips its TLS handshake, is held no
    // longer than one that drips its header fields.
    startRequest(Clock::now());
    if (ssl_ && !handshake()) return;
    RequestReader reader(
        [this](char* buffer, size_t size) { return readSome(buffer, size); },
        RequestLimits{config_.maxHeaderBytes, config_.maxHeaderFields, config_.maxBodyBytes});
    auto writeContinue = [this] { return writeAll("HTTP/1.1 100 Continue\r\n\r\n"); };
    std::optional<Response> refusal;
    auto checkHeaders = [this, &refusal](const Request& request) {
      phase_ = Phase::kBody;
      if (config_.admit) {
        refusal = config_.admit(request);
        if (refusal) return false;
      }
      if (!admitted_) {
        admitted_ = true;
        if (onAdmitted_) onAdmitted_();
      }
      return true;
    };
    bool first = true;
    while (true) {
      if (!first) {
        phase_ = Phase::kIdle;
        idleSince_ = Clock::now();
      }
      first = false;
      Request request;
      request.peer = peer;
      request.remoteAddress = remote_;
      refusal.reset();
      RequestReader::Outcome outcome = reader.read(request, writeContinue, checkHeaders);
      if (outcome.kind == RequestReader::Outcome::Kind::kEnded) return;  // closed or timed out
      if (outcome.kind == RequestReader::Outcome::Kind::kRefused ||
          outcome.kind == RequestReader::Outcome::Kind::kStopped) {
        Response r = refusal ? std::move(*refusal)
                             : Response::text(outcome.status,
                                              std::string(reasonPhrase(outcome.status)) + "\n");
        closeAfter_ = true;
        isHead_ = false;
        writeResponse(r, false);
        return;
      }
      responded_ = false;
      streaming_ = false;
      streamFailed_ = false;
      isHead_ = request.method == "HEAD";
      closeAfter_ = outcome.closeAfter;
      try {
        handler(request, *this);
      } catch (const std::exception& e) {
        if (!responded_)
          send(Response::text(500, std::string("internal error: ") + e.what() + "\n"));
      }
      if (!responded_) send(Response::text(500, "handler sent no response\n"));
      if (streaming_) {
        if (streamFailed_ || !writeAll("0\r\n\r\n")) return;
      }
      if (closeAfter_ || broken_) return;
    }
  }

  // Responder
  void send(Response response) override {
    if (responded_) return;
    responded_ = true;
    writeResponse(response, isHead_);
  }

  ResponseStream& startStream(int status,
                              std::vector<std::pair<std::string, std::string>> headers) override {
    if (!responded_) {
      responded_ = true;
      streaming_ = true;
      std::string head = statusLine(status);
      for (auto& [k, v] : headers) head += k + ": " + v + "\r\n";
      head += "Transfer-Encoding: chunked\r\n";
      if (closeAfter_) head += "Connection: close\r\n";
      head += "\r\n";
      if (!writeAll(head)) streamFailed_ = true;
    }
    return *this;
  }

  // ResponseStream
  bool write(std::string_view data) override {
    if (streamFailed_) return false;
    if (data.empty()) return true;
    char size[32];
    snprintf(size, sizeof size, "%zx\r\n", data.size());
    std::string chunk;
    chunk.reserve(data.size() + 40);
    chunk += size;
    chunk.append(data.data(), data.size());
    chunk += "\r\n";
    if (!writeAll(chunk)) streamFailed_ = true;
    return !streamFailed_;
  }

  bool peerClosed() override {
    if (streamFailed_ || broken_) return true;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    int n = ::poll(&p, 1, 0);
    if (n > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) {
      streamFailed_ = true;
      return true;
    }
    return false;
  }

  std::optional<PeerCertificate> peer;

 private:
  enum class Phase { kIdle, kHeaders, kBody };

  void startRequest(Clock::time_point start) {
    phase_ = Phase::kHeaders;
    headersDeadline_ = start + std::min(config_.headerTimeout, config_.requestTimeout);
    requestDeadline_ = start + config_.requestTimeout;
  }

  // The moment the current wait for bytes must end.
  Clock::time_point readDeadline() const {
    switch (phase_) {
      case Phase::kIdle:
        return idleSince_ + config_.idleTimeout;
      case Phase::kHeaders:
        return headersDeadline_;
      case Phase::kBody:
        break;
    }
    return requestDeadline_;
  }

  // Waits until the socket is ready for `events` or `deadline` passes.
  bool waitFor(short events, Clock::time_point deadline) {
    while (true) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60 * 60 * 1000)));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  }

  bool handshake() {
    SSL_set_fd(ssl_, fd_);
    while (true) {
      ERR_clear_error();  // SSL_get_error reads the thread's queue: see readBeforeDeadline
      int r = SSL_accept(ssl_);
      if (r == 1) break;
      int error = SSL_get_error(ssl_, r);
      ERR_clear_error();
      if (error == SSL_ERROR_WANT_READ && waitFor(POLLIN, readDeadline())) continue;
      if (error == SSL_ERROR_WANT_WRITE && waitFor(POLLOUT, readDeadline())) continue;
      return false;
    }
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert) {
      if (SSL_get_verify_result(ssl_) == X509_V_OK) {
        PeerCertificate pc;
        X509_NAME* subject = X509_get_subject_name(cert);
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
          ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
          pc.commonName.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                               ASN1_STRING_length(s));
        }
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;) {
          ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
          pc.organizations.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                        ASN1_STRING_length(s));
        }
        peer = std::move(pc);
      }
      X509_free(cert);
    }
    return true;
  }

  // Some bytes of the request, or -1 when the connection ended or the
  // current deadline passed.
  ssize_t readSome(char* buf, size_t n) {
    ssize_t got = readBeforeDeadline(buf, n);
    if (got > 0 && phase_ == Phase::kIdle) startRequest(Clock::now());
    return got;
  }

  ssize_t readBeforeDeadline(char* buf, size_t n) {
    while (true) {
      Clock::time_point deadline = readDeadline();
      if (Clock::now() >= deadline) return -1;
      if (ssl_) {
        // SSL_get_error reports any error already queued on this thread as
        // this call's: a handler that used OpenSSL on this thread (the
        // sandbox calling a webhook whose certificate it refused) would
        // otherwise make a mere "no bytes yet" look fatal and close a
        // kept-alive connection under its client.
        ERR_clear_error();
        int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, INT32_MAX)));
        if (r > 0) return r;
        int error = SSL_get_error(ssl_, r);
        ERR_clear_error();
        if (error == SSL_ERROR_WANT_READ && waitFor(POLLIN, deadline)) continue;
        if (error == SSL_ERROR_WANT_WRITE && waitFor(POLLOUT, deadline)) continue;
        return -1;
      }
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r > 0) return r;
      if (r == 0) return -1;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && waitFor(POLLIN, deadline)) continue;
      return -1;
    }
  }

  // Writes everything; each wait for the peer to take bytes is bounded by
  // idleTimeout.
  bool writeAll(std::string_view data) {
    if (broken_) return false;
    while (!data.empty()) {
      ssize_t w;
      if (ssl_) {
        ERR_clear_error();  // see readBeforeDeadline
        int r = SSL_write(ssl_, data.data(),
                          static_cast<int>(std::min<size_t>(data.size(), INT32_MAX)));
        if (r <= 0) {
          int error = SSL_get_error(ssl_, r);
          ERR_clear_error();
          auto deadline = Clock::now() + config_.idleTimeout;
          if (error == SSL_ERROR_WANT_WRITE && waitFor(POLLOUT, deadline)) continue;
          if (error == SSL_ERROR_WANT_READ && waitFor(POLLIN, deadline)) continue;
          broken_ = true;
          return false;
        }
        w = r;
      } else {
        w = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
            waitFor(POLLOUT, Clock::now() + config_.idleTimeout)) {
          continue;
        }
        if (w <= 0) {
          broken_ = true;
          return false;
        }
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }

  static std::string statusLine(int status) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  }

  void writeResponse(const Response& r, bool headOnly) {
    std::string out = statusLine(r.status);
    for (auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    if (closeAfter_) out += "Connection: close\r\n";
    out += "\r\n";
    if (!headOnly) out += r.body;
    writeAll(out);
  }

  int fd_;
  SSL* ssl_;
  std::string remote_;
  const ServerConfig& config_;
  std::function<void()> onAdmitted_;
  bool admitted_ = false;
  Phase phase_ = Phase::kHeaders;
  Clock::time_point idleSince_;
  Clock::time_point headersDeadline_;
  Clock::time_point requestDeadline_;
  bool responded_ = false;
  bool streaming_ = false;
  bool streamFailed_ = false;
  bool isHead_ = false;
  bool closeAfter_ = false;
  bool broken_ = false;
};

}  // namespace

struct HttpServer::Impl {
  ServerConfig config;
  Handler handler;
  int listenFd = -1;
  int wakePipe[2] = {-1, -1};
  uint16_t boundPort = 0;
  std::mutex ctxMu;  // guards ctx, which reloadTls replaces
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx;
  std::thread acceptThread;
  std::atomic<bool> stopping{false};

  // A connection's place in the count of maxConnections.
  enum class SlotState { kPending, kAdmitted, kEvicted };
  struct Slot {
    std::shared_ptr<Connection> connection;
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
    SlotState state = SlotState::kPending;  // guarded by mu
  };
  mutable std::mutex mu;  // guards slots and their state, closedForRoom
  std::list<Slot> slots;  // in the order of their accept
  size_t closedForRoom = 0;

  std::optional<std::string> setupTls(const TlsConfig& t) {
    std::unique_ptr<SSL_CTX, SslCtxDeleter> fresh(SSL_CTX_new(TLS_server_method()));
    if (!fresh) return "TLS: " + opensslError();
    SSL_CTX_set_min_proto_version(fresh.get(), TLS1_2_VERSION);
    BIO* cb = BIO_new_mem_buf(t.certificatePem.data(), static_cast<int>(t.certificatePem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    if (!cert || SSL_CTX_use_certificate(fresh.get(), cert) != 1) {
      BIO_free(cb);
      if (cert) X509_free(cert);
      return "TLS: cannot use the serving certificate: " + opensslError();
    }
    X509_free(cert);
    while (X509* extra = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr)) {
      SSL_CTX_add_extra_chain_cert(fresh.get(), extra);  // takes ownership
    }
    ERR_clear_error();
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(t.privateKeyPem.data(), static_cast<int>(t.privateKeyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    if (!key || SSL_CTX_use_PrivateKey(fresh.get(), key) != 1) {
      if (key) EVP_PKEY_free(key);
      return "TLS: cannot use the private key: " + opensslError();
    }
    EVP_PKEY_free(key);
    if (!t.clientCaPem.empty()) {
      STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
      if (!addPemCertificates(SSL_CTX_get_cert_store(fresh.get()), names, t.clientCaPem)) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return "TLS: the client CA bundle holds no certificate";
      }
      SSL_CTX_set_client_CA_list(fresh.get(), names);
      int mode = SSL_VERIFY_PEER;
      if (t.requireClientCertificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      SSL_CTX_set_verify(fresh.get(), mode, nullptr);
    }
    std::lock_guard<std::mutex> lock(ctxMu);
    ctx = std::move(fresh);
    return std::nullopt;
  }

  void reap(bool all) {
    std::list<Slot> finished;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto it = slots.begin(); it != slots.end();) {
        if (all || it->done->load()) {
          finished.splice(finished.end(), slots, it++);
        } else {
          ++it;
        }
      }
    }
    for (auto& s : finished) {
      if (s.thread.joinable()) s.thread.join();
    }
  }

  // Whether a new (pending) connection may take a slot, closing the oldest
  // pending connection to make one when pending connections hold all they
  // may (ServerConfig::maxConnections).
  bool makeRoom() {
    std::lock_guard<std::mutex> lock(mu);
    size_t pending = 0;
    size_t open = 0;
    Slot* oldestPending = nullptr;
    for (auto& slot : slots) {
      if (slot.done->load() || slot.state == SlotState::kEvicted) continue;
      ++open;
      if (slot.state == SlotState::kPending) {
        ++pending;
        if (!oldestPending) oldestPending = &slot;
      }
    }
    size_t reserved = std::min(config.reservedConnections, config.maxConnections);
    size_t maxPending = config.maxConnections - reserved;
    if (open < config.maxConnections && pending < maxPending) return true;
    if (!oldestPending || maxPending == 0) return false;
    // Its thread sees the connection end and lets the slot go.
    oldestPending->state = SlotState::kEvicted;
    ++closedForRoom;
    oldestPending->connection->shutdownSocket();
    return true;
  }

  void acceptLoop() {
    setThreadName(config.name + "-accept");
    while (!stopping) {
      pollfd fds[2] = {{listenFd, POLLIN, 0}, {wakePipe[0], POLLIN, 0}};
      int n = ::poll(fds, 2, 1000);
      reap(false);
      if (stopping) break;
      if (n <= 0 || !(fds[0].revents & POLLIN)) continue;
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
      if (fd < 0) continue;
      if (!makeRoom()) {
        ::close(fd);
        continue;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      char host[NI_MAXHOST] = "";
      char port[NI_MAXSERV] = "";
      getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                  NI_NUMERICHOST | NI_NUMERICSERV);
      SSL* ssl = nullptr;
      {
        // SSL_new takes a reference: a reload never pulls the context away.
        std::lock_guard<std::mutex> ctxLock(ctxMu);
        if (ctx) ssl = SSL_new(ctx.get());
      }
      std::lock_guard<std::mutex> lock(mu);
      Slot& slot = slots.emplace_back();
      auto it = std::prev(slots.end());
      auto connection =
          std::make_shared<Connection>(fd, ssl, std::string(host) + ":" + port, config, [this, it] {
            std::lock_guard<std::mutex> admittedLock(mu);
            if (it->state == SlotState::kPending) it->state = SlotState::kAdmitted;
          });
      auto done = std::make_shared<std::atomic<bool>>(false);
      slot.connection = connection;
      slot.done = done;
      slot.thread = std::thread([this, connection, done] {
        setThreadName(config.name + "-conn");
        connection->serve(handler);
        connection->shutdownSocket();
        done->store(true);
      });
    }
  }
};

HttpServer::HttpServer(ServerConfig config, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

std::optional<std::string> HttpServer::start() {
  // A client that disconnects while we write must not kill the process.
  ::signal(SIGPIPE, SIG_IGN);
  auto& c = impl_->config;
  if (c.tls) {
    if (auto err = impl_->setupTls(*c.tls)) return err;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string port = std::to_string(c.port);
  if (int rc = getaddrinfo(c.bindAddress.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return "cannot resolve bind address " + c.bindAddress + ": " + gai_strerror(rc);
  }
  int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
    std::string err = "cannot listen on " + c.bindAddress + ":" + port + ": " + strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    return err;
  }
  freeaddrinfo(res);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  impl_->boundPort =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  impl_->listenFd = fd;
  if (::pipe2(impl_->wakePipe, O_CLOEXEC) != 0) return std::string("pipe: ") + strerror(errno);
  impl_->acceptThread = std::thread([this] { impl_->acceptLoop(); });
  return std::nullopt;
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->wakePipe[1] >= 0) {
    char b = 1;
    [[maybe_unused]] auto w = ::write(impl_->wakePipe[1], &b, 1);
  }
  if (impl_->acceptThread.joinable()) impl_->acceptThread.join();
  if (impl_->listenFd >= 0) ::close(impl_->listenFd);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& s : impl_->slots) s.connection->shutdownSocket();
  }
  impl_->reap(true);
  for (int& p : impl_->wakePipe) {
    if (p >= 0) ::close(p);
    p = -1;
  }
}

uint16_t HttpServer::port() const { return impl_->boundPort; }

bool HttpServer::tls() const { return impl_->config.tls.has_value(); }

HttpServer::ConnectionCounts HttpServer::connections() const {
  ConnectionCounts counts;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& slot : impl_->slots) {
    if (slot.done->load()) continue;
    if (slot.state == Impl::SlotState::kPending) ++counts.pending;
    if (slot.state == Impl::SlotState::kAdmitted) ++counts.admitted;
  }
  counts.closedForRoom = impl_->closedForRoom;
  return counts;
}

std::optional<std::string> HttpServer::reloadTls(const TlsConfig& tls) {
  if (!impl_->config.tls) return "the server was started without TLS";
  return impl_->setupTls(tls);
}

}  // namespace remedy::http
