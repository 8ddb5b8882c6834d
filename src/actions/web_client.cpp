// The web actions' HTTP/1.1 client over POSIX sockets and OpenSSL: what the
// egress policy checked is what the connection reaches (web_client.h).
#include "actions/web_client.h"

#include "kube/base64.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace remedy::actions {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kMaxHeadBytes = 64 * 1024;

std::string formatSeconds(milliseconds d) {
  std::ostringstream out;
  out << static_cast<double>(d.count()) / 1000.0 << "s";
  return out.str();
}

// ---- URLs ----

struct Url {
  bool https = false;
  std::string userInfo;  // percent-encoded, as written
  std::string host;      // without brackets
  int port = 0;
  std::string target;  // path and query, at least "/"
};

bool hexDigit(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexDigit(s[i + 1]) && hexDigit(s[i + 2])) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<Url> parseUrl(const std::string& text) {
  Url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    u.https = true;
    rest = text.substr(8);
  } else {
    return std::nullopt;
  }
  size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  std::string target = end == std::string::npos ? "" : rest.substr(end);
  size_t hash = target.find('#');
  if (hash != std::string::npos) target.resize(hash);
  if (target.empty() || target[0] == '?') target = "/" + target;
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  u.target = target;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    u.userInfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  for (char c : u.host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '_') {
      return std::nullopt;
    }
  }
  u.port = u.https ? 443 : 80;
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), hexDigit) ||
        !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c); })) {
      return std::nullopt;
    }
    u.port = std::stoi(port);
    if (u.port < 1 || u.port > 65535) return std::nullopt;
  }
  return u;
}

std::string hostHeader(const Url& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool standard = (u.https && u.port == 443) || (!u.https && u.port == 80);
  return standard ? host : host + ":" + std::to_string(u.port);
}

// A Location relative to the URL it answered.
std::string resolveLocation(const Url& base, const std::string& location) {
  if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
  std::string origin = std::string(base.https ? "https" : "http") + "://" + hostHeader(base);
  if (location.rfind("//", 0) == 0) return std::string(base.https ? "https:" : "http:") + location;
  if (!location.empty() && location[0] == '/') return origin + location;
  std::string path = base.target.substr(0, base.target.find('?'));
  return origin + path.substr(0, path.rfind('/') + 1) + location;
}

// ---- the system resolver ----

class SystemResolver : public Resolver {
 public:
  std::vector<IpAddress> resolve(const std::string& host, milliseconds timeout,
                                 std::string* error) override {
    if (auto literal = IpAddress::parse(host)) return {*literal};
    // getaddrinfo cannot be cancelled: it runs on a thread of its own, and
    // an answer after the deadline is dropped.
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      std::vector<IpAddress> addresses;
      std::string error;
    };
    auto state = std::make_shared<State>();
    std::thread([state, host] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* result = nullptr;
      int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
      std::vector<IpAddress> found;
      std::string why;
      if (rc != 0) {
        why = gai_strerror(rc);
      } else {
        for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
          IpAddress a;
          if (ai->ai_family == AF_INET) {
            std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
          } else if (ai->ai_family == AF_INET6) {
            a.v6 = true;
            std::memcpy(a.bytes.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr,
                        16);
          } else {
            continue;
          }
          if (std::find(found.begin(), found.end(), a) == found.end()) found.push_back(a);
        }
        freeaddrinfo(result);
      }
      std::lock_guard<std::mutex> lock(state->mu);
      state->addresses = std::move(found);
      state->error = why;
      state->done = true;
      state->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(state->mu);
    if (!state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
      *error = "resolving " + host + " took longer than " + formatSeconds(timeout);
      return {};
    }
    if (!state->error.empty()) *error = "resolving " + host + ": " + state->error;
    return state->addresses;
  }
};

// ---- one connection ----

std::string opensslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "TLS failure";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return text;
}

class Connection {
 public:
  Connection(Clock::time_point deadline) : deadline_(deadline) {}
  ~Connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects to `address` (already checked) and, for HTTPS, shakes hands
  // verifying `host`. False with `error` set.
  bool open(const IpAddress& address, const Url& url, const WebTlsOptions& tls, std::string* error,
            bool* timedOut) {
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (address.v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(static_cast<uint16_t>(url.port));
      std::memcpy(&sa->sin6_addr, address.bytes.data(), 16);
      length = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
      sa->sin_family = AF_INET;
      sa->sin_port = htons(static_cast<uint16_t>(url.port));
      std::memcpy(&sa->sin_addr, address.bytes.data(), 4);
      length = sizeof(sockaddr_in);
    }
    fd_ = ::socket(address.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) {
      *error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 &&
        errno != EINPROGRESS) {
      *error = "connect to " + address.text() + ": " + std::strerror(errno);
      return false;
    }
    if (!wait(POLLOUT)) {
      *timedOut = true;
      *error = "connect to " + address.text() + " timed out";
      return false;
    }
    int soError = 0;
    socklen_t soLength = sizeof soError;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soError, &soLength);
    if (soError != 0) {
      *error = "connect to " + address.text() + ": " + std::strerror(soError);
      return false;
    }
    if (!url.https) return true;
    return handshake(url, tls, error, timedOut);
  }

  // Writes all of `data`; false on failure or at the deadline.
  bool writeAll(const std::string& data, std::string* error, bool* timedOut) {
    size_t sent = 0;
    while (sent < data.size()) {
      long n = 0;
      if (ssl_ != nullptr) {
        int r = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
        if (r <= 0) {
          if (!waitSsl(r, error, timedOut)) return false;
          continue;
        }
        n = r;
      } else {
        n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (!wait(POLLOUT)) return fail("sending the request timed out", error, timedOut);
            continue;
          }
          *error = std::string("sending the request: ") + std::strerror(errno);
          return false;
        }
      }
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads some bytes into `out`; 0 at the end of the stream, -1 on failure.
  long readSome(std::string& out, size_t max, std::string* error, bool* timedOut) {
    char buffer[16384];
    size_t want = std::min(max, sizeof buffer);
    while (true) {
      if (ssl_ != nullptr) {
        int r = SSL_read(ssl_, buffer, static_cast<int>(want));
        if (r > 0) {
          out.append(buffer, static_cast<size_t>(r));
          return r;
        }
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return 0;  // closed without notify
        if (!waitSsl(r, error, timedOut)) return -1;
        continue;
      }
      long n = ::recv(fd_, buffer, want, 0);
      if (n > 0) {
        out.append(buffer, static_cast<size_t>(n));
        return n;
      }
      if (n == 0) return 0;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        if (!wait(POLLIN)) {
          fail("the response did not arrive in time", error, timedOut);
          return -1;
        }
        continue;
      }
      *error = std::string("reading the response: ") + std::strerror(errno);
      return -1;
    }
  }

 private:
  bool fail(const std::string& what, std::string* error, bool* timedOut) {
    *error = what;
    *timedOut = true;
    return false;
  }

  bool wait(short events) {
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  bool waitSsl(int r, std::string* error, bool* timedOut) {
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      if (wait(POLLIN)) return true;
      return fail("the server did not answer in time", error, timedOut);
    }
    if (e == SSL_ERROR_WANT_WRITE) {
      if (wait(POLLOUT)) return true;
      return fail("the server did not answer in time", error, timedOut);
    }
    *error = opensslError();
    return false;
  }

  bool handshake(const Url& url, const WebTlsOptions& tls, std::string* error, bool* timedOut) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) {
      *error = opensslError();
      return false;
    }
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx_);
    if (!tls.caFile.empty() &&
        SSL_CTX_load_verify_locations(ctx_, tls.caFile.c_str(), nullptr) != 1) {
      *error = "CA file " + tls.caFile + ": " + opensslError();
      return false;
    }
    SSL_CTX_set_verify(ctx_, tls.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    bool literal = IpAddress::parse(url.host).has_value();
    if (!literal) SSL_set_tlsext_host_name(ssl_, url.host.c_str());
    if (tls.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                       : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
      if (ok != 1) {
        *error = "cannot verify host " + url.host;
        return false;
      }
    }
    while (true) {
      int r = SSL_connect(ssl_);
      if (r == 1) return true;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (!wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)) {
          return fail("the TLS handshake did not finish in time", error, timedOut);
        }
        continue;
      }
      long verify = SSL_get_verify_result(ssl_);
      *error = verify != X509_V_OK ? std::string("TLS: certificate verify failed: ") +
                                         X509_verify_cert_error_string(verify)
                                   : "TLS handshake: " + opensslError();
      ERR_clear_error();
      return false;
    }
  }

  Clock::time_point deadline_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// ---- one exchange ----

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class HttpExchange {
 public:
  HttpExchange(Connection& conn, const WebRequest& request, WebResponse& out)
      : conn_(conn), request_(request), out_(out) {}

  // Reads the head; false with out_.error set.
  bool readHead() {
    while (true) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);
        if (!parseHead(head)) return false;
        if (out_.status >= 100 && out_.status < 200) {  // informational: the next head
          out_.headers.clear();
          continue;
        }
        return true;
      }
      if (buffer_.size() > kMaxHeadBytes) {
        out_.error = "the response head is longer than 64 KiB";
        return false;
      }
      long n = conn_.readSome(buffer_, 16384, &out_.error, &out_.timedOut);
      if (n < 0) return false;
      if (n == 0) {
        out_.error = "the server closed the connection without an answer";
        return false;
      }
    }
  }

  // Reads the body up to the limit.
  bool readBody(bool headRequest) {
    std::string& body = out_.body;
    size_t limit = request_.maxResponseBytes;
    if (headRequest || out_.status == 204 || out_.status == 304) return true;
    std::string encoding = lowerCase(out_.header("Transfer-Encoding"));
    if (encoding.find("chunked") != std::string::npos) return readChunked(limit);
    std::string lengthText = out_.header("Content-Length");
    std::optional<size_t> length;
    if (!lengthText.empty() && lengthText.size() < 19 &&
        std::all_of(lengthText.begin(), lengthText.end(), [](char c) { return std::isdigit(c); })) {
      length = std::stoull(lengthText);
    }
    std::string data = std::move(buffer_);
    while (true) {
      size_t wanted = length ? std::min(*length, limit + 1) : limit + 1;
      if (data.size() >= wanted) break;
      long n = conn_.readSome(data, wanted - data.size(), &out_.error, &out_.timedOut);
      if (n < 0) {
        if (out_.timedOut) out_.error = "the response body did not arrive in time";
        return false;
      }
      if (n == 0) {
        if (length && data.size() < *length) {
          out_.error = "the connection closed inside the response body";
          return false;
        }
        break;
      }
    }
    if (length && data.size() > *length) data.resize(*length);
    if (data.size() > limit) {
      data.resize(limit);
      out_.truncated = true;
    }
    body = std::move(data);
    return true;
  }

 private:
  bool parseHead(const std::string& head) {
    std::istringstream in(head);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) {
      out_.error = "not an HTTP/1.x answer";
      return false;
    }
    std::string code = line.substr(9, 3);
    if (!std::all_of(code.begin(), code.end(), [](char c) { return std::isdigit(c); })) {
      out_.error = "not an HTTP/1.x answer";
      return false;
    }
    out_.status = std::stoi(code);
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t") + 1);
      out_.headers.emplace_back(line.substr(0, colon), value);
    }
    return true;
  }

  // Ensures `n` bytes are buffered; false at the end of the stream or failure.
  bool need(size_t n) {
    while (buffer_.size() < n) {
      long r = conn_.readSome(buffer_, 16384, &out_.error, &out_.timedOut);
      if (r <= 0) {
        if (r == 0) out_.error = "the connection closed inside the response body";
        if (out_.timedOut) out_.error = "the response body did not arrive in time";
        return false;
      }
    }
    return true;
  }

  bool readChunked(size_t limit) {
    std::string& body = out_.body;
    while (true) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (buffer_.size() > 1024) {
          out_.error = "a malformed chunked body";
          return false;
        }
        if (!need(buffer_.size() + 1)) return false;
      }
      std::string sizeText = buffer_.substr(0, eol);
      sizeText = sizeText.substr(0, sizeText.find(';'));
      buffer_.erase(0, eol + 2);
      if (sizeText.empty() || sizeText.size() > 8 ||
          !std::all_of(sizeText.begin(), sizeText.end(), hexDigit)) {
        out_.error = "a malformed chunked body";
        return false;
      }
      size_t size = std::stoul(sizeText, nullptr, 16);
      if (size == 0) return true;  // trailers are not read
      size_t take = std::min(size, limit + 1 - std::min(limit + 1, body.size()));
      if (!need(take)) return false;
      body.append(buffer_, 0, take);
      if (body.size() > limit) {
        body.resize(limit);
        out_.truncated = true;
        return true;
      }
      buffer_.erase(0, take);
      if (!need(2)) return false;
      buffer_.erase(0, 2);
    }
  }

  Connection& conn_;
  const WebRequest& request_;
  WebResponse& out_;
  std::string buffer_;
};

class SocketWebClient : public WebClient {
 public:
  explicit SocketWebClient(std::shared_ptr<Resolver> resolver) : resolver_(std::move(resolver)) {}

  WebResponse send(const WebRequest& original) override {
    WebResponse out;
    if (original.timeout.count() <= 0) {
      out.error = "no time left for the request";
      out.timedOut = true;
      return out;
    }
    const auto deadline = Clock::now() + original.timeout;
    if (!original.tls.caFile.empty() && !std::ifstream(original.tls.caFile)) {
      out.error = "CA file " + original.tls.caFile + ": cannot be read";
      out.invalid = true;
      return out;
    }
    WebRequest request = original;
    auto first = parseUrl(request.url);
    if (!first) {
      out.error = "not an http:// or https:// URL";
      out.invalid = true;
      return out;
    }
    std::string originHost = lowerCase(first->host);
    for (int hop = 0;; ++hop) {
      out = exchange(request, deadline);
      out.redirects = hop;
      bool redirect = out.ok() && (out.status == 301 || out.status == 302 || out.status == 303 ||
                                   out.status == 307 || out.status == 308);
      if (!redirect || hop >= request.maxRedirects) return out;
      std::string location = out.header("Location");
      auto base = parseUrl(request.url);
      if (location.empty() || !base) return out;
      std::string next = resolveLocation(*base, location);
      auto nextUrl = parseUrl(next);
      if (!nextUrl) {
        out.error = "a redirect to a URL that is not http:// or https://";
        out.status = 0;
        return out;
      }
      // Credentials belong to the host they were written for.
      if (request.carriesSecrets && lowerCase(nextUrl->host) != originHost) {
        out.error = "a redirect to host " + nextUrl->host +
                    ", refused: the request carries a secret meant for " + originHost;
        out.status = 0;
        out.refused = true;
        return out;
      }
      if (out.status == 303 ||
          ((out.status == 301 || out.status == 302) && request.method == "POST")) {
        request.method = "GET";
        request.body.clear();
      }
      request.url = next;
    }
  }

 private:
  WebResponse exchange(const WebRequest& request, Clock::time_point deadline) {
    WebResponse out;
    auto url = parseUrl(request.url);
    if (!url) {
      out.error = "not an http:// or https:// URL";
      out.invalid = true;
      return out;
    }
    auto left = [&] { return std::chrono::duration_cast<milliseconds>(deadline - Clock::now()); };
    if (left().count() <= 0) {
      out.error = "no time left for the request";
      out.timedOut = true;
      return out;
    }
    // Resolved once; what is checked is what is connected to.
    std::string resolveError;
    std::vector<IpAddress> addresses;
    if (auto literal = IpAddress::parse(url->host)) {
      addresses.push_back(*literal);
    } else {
      addresses = resolver_->resolve(url->host, left(), &resolveError);
    }
    if (addresses.empty()) {
      out.error =
          resolveError.empty() ? "host " + url->host + " resolved to no address" : resolveError;
      out.timedOut = left().count() <= 0;
      return out;
    }
    if (!request.egress) {
      out.error = "no egress policy: the request to host " + url->host + " is refused";
      out.refused = true;
      return out;
    }
    EgressVerdict verdict = request.egress->check(url->host, addresses, request.carriesSecrets);
    if (!verdict.allowed) {
      out.error = "refused by the egress policy: " + verdict.reason;
      out.refused = true;
      return out;
    }
    std::unique_ptr<Connection> conn;
    std::string connectError;
    for (const IpAddress& address : addresses) {
      auto attempt = std::make_unique<Connection>(deadline);
      std::string error;
      bool timedOut = false;
      if (attempt->open(address, *url, request.tls, &error, &timedOut)) {
        conn = std::move(attempt);
        break;
      }
      connectError = error;
      if (timedOut) {
        out.error = connectError + " within " + formatSeconds(request.timeout);
        out.timedOut = true;
        return out;
      }
    }
    if (!conn) {
      out.error = connectError;
      return out;
    }
    const std::string within = " within " + formatSeconds(request.timeout);
    std::string message = buildRequest(request, *url);
    if (!conn->writeAll(message, &out.error, &out.timedOut)) {
      if (out.timedOut) out.error = "no response" + within;
      return out;
    }
    HttpExchange exchange(*conn, request, out);
    if (!exchange.readHead()) {
      out.status = 0;
      if (out.timedOut) out.error = "no response" + within;
      return out;
    }
    if (!exchange.readBody(request.method == "HEAD")) {
      out.body.clear();
      out.truncated = false;
      if (out.timedOut) out.error = "the response body did not arrive" + within;
    }
    return out;
  }

  static std::string buildRequest(const WebRequest& request, const Url& url) {
    std::string head = request.method + " " + url.target + " HTTP/1.1\r\n";
    head += "Host: " + hostHeader(url) + "\r\n";
    std::string contentType;
    bool hasAuthorization = false;
    bool hasUserAgent = false;
    for (const auto& [name, value] : request.headers) {
      if (strcasecmp(name.c_str(), "Content-Type") == 0) {
        contentType = value;
        continue;
      }
      if (strcasecmp(name.c_str(), "Host") == 0 ||
          strcasecmp(name.c_str(), "Content-Length") == 0 ||
          strcasecmp(name.c_str(), "Connection") == 0 ||
          strcasecmp(name.c_str(), "Transfer-Encoding") == 0) {
        continue;  // framing is this client's
      }
      hasAuthorization |= strcasecmp(name.c_str(), "Authorization") == 0;
      hasUserAgent |= strcasecmp(name.c_str(), "User-Agent") == 0;
      head += name + ": " + value + "\r\n";
    }
    // user:password@ in the URL is Basic authentication, never sent as is.
    if (!url.userInfo.empty() && !hasAuthorization) {
      head += "Authorization: Basic " + kube::encodeBase64(percentDecode(url.userInfo)) + "\r\n";
    }
    if (!hasUserAgent) head += "User-Agent: remedy-operator\r\n";
    bool sendsBody = !request.body.empty() || !contentType.empty() || request.method == "POST" ||
                     request.method == "PUT" || request.method == "PATCH";
    if (sendsBody) {
      head +=
          "Content-Type: " + (contentType.empty() ? std::string("application/json") : contentType) +
          "\r\n";
      head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
    }
    head += "Connection: close\r\n\r\n";
    return head + (sendsBody ? request.body : std::string());
  }

  std::shared_ptr<Resolver> resolver_;
};

}  // namespace

std::string WebResponse::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

std::shared_ptr<Resolver> systemResolver() { return std::make_shared<SystemResolver>(); }

std::shared_ptr<WebClient> makeWebClient(std::shared_ptr<Resolver> resolver) {
  return std::make_shared<SocketWebClient>(resolver ? std::move(resolver) : systemResolver());
}

}  // namespace remedy::actions
