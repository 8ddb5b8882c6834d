#include "http/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

namespace remedy::http {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kDeadline = "context deadline exceeded";

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string target;  // path and query
};

std::optional<Url> parseUrl(const std::string& url, std::string* error) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    *error = "unsupported protocol scheme in \"" + url + "\"";
    return std::nullopt;
  }
  size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (u.target[0] == '?') u.target = "/" + u.target;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      *error = "missing ']' in host";
      return std::nullopt;
    }
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      u.port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) {
    *error = "no Host in request URL";
    return std::nullopt;
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return u;
}

bool isIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string hostPort(const Url& u) {
  bool v6 = u.host.find(':') != std::string::npos;
  return (v6 ? "[" + u.host + "]" : u.host) + ":" + u.port;
}

long remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max<long>(0, static_cast<long>(left.count()));
}

// Waits until `fd` is ready for `events` or the deadline passes.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    long ms = remainingMs(deadline);
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(ms, 1000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// A connected, non-blocking socket, or "" with `error` set.
int connectTo(const Url& u, Clock::time_point deadline, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res);
  if (rc != 0) {
    *error = "dial tcp: lookup " + u.host + ": no such host";
    return -1;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(res, freeaddrinfo);
  std::string last = "connect: connection refused";
  std::string lastAddress = hostPort(u);
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    char host[NI_MAXHOST] = "";
    getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST);
    Url numeric = u;
    numeric.host = host;
    lastAddress = hostPort(numeric);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    if (errno == EINPROGRESS) {
      if (!waitFor(fd, POLLOUT, deadline)) {
        ::close(fd);
        *error = kDeadline;
        return -1;
      }
      int soError = 0;
      socklen_t len = sizeof soError;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
      if (soError == 0) return fd;
      last = std::string("connect: ") +
             (soError == ECONNREFUSED ? "connection refused" : std::strerror(soError));
    } else {
      last = std::string("connect: ") + std::strerror(errno);
    }
    ::close(fd);
  }
  *error = "dial tcp " + lastAddress + ": " + last;
  return -1;
}

std::string tlsError(SSL* ssl) {
  long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return "tls: failed to verify certificate: x509: certificate is not valid for the requested "
           "host";
  }
  if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
    return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
  }
  if (verify != X509_V_OK) {
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
  }
  unsigned long e = ERR_get_error();
  char buf[256] = "handshake failure";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  return std::string("remote error: tls: ") + buf;
}

// Reads or writes through TLS or the plain socket, honouring the deadline.
class Channel {
 public:
  Channel(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool write(const std::string& data, Clock::time_point deadline, std::string* error) {
    size_t sent = 0;
    while (sent < data.size()) {
      int n;
      if (ssl_) {
        ERR_clear_error();  // SSL_get_error reads the thread's whole queue
        n = SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent));
        if (n <= 0 && !retry(SSL_get_error(ssl_, n), deadline, error)) return false;
      } else {
        n = static_cast<int>(::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          if (!waitFor(fd_, POLLOUT, deadline)) {
            *error = kDeadline;
            return false;
          }
        } else if (n < 0) {
          *error = std::string("write: ") + std::strerror(errno);
          return false;
        }
      }
      if (n > 0) sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Appends what arrives to `out`; 0 at the end of the stream, -1 on error.
  int read(std::string& out, Clock::time_point deadline, std::string* error) {
    char buf[16384];
    while (true) {
      int n;
      if (ssl_) {
        ERR_clear_error();
        n = SSL_read(ssl_, buf, sizeof buf);
        if (n > 0) {
          out.append(buf, static_cast<size_t>(n));
          return n;
        }
        int code = SSL_get_error(ssl_, n);
        if (code == SSL_ERROR_ZERO_RETURN) return 0;
        if (code == SSL_ERROR_SYSCALL && n == 0) return 0;
        if (!retry(code, deadline, error)) return -1;
      } else {
        n = static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
        if (n > 0) {
          out.append(buf, static_cast<size_t>(n));
          return n;
        }
        if (n == 0) return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          *error = std::string("read: ") + std::strerror(errno);
          return -1;
        }
        if (!waitFor(fd_, POLLIN, deadline)) {
          *error = kDeadline;
          return -1;
        }
      }
    }
  }

 private:
  bool retry(int code, Clock::time_point deadline, std::string* error) {
    short events = code == SSL_ERROR_WANT_READ    ? POLLIN
                   : code == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                  : 0;
    if (events == 0) {
      *error = code == SSL_ERROR_SYSCALL ? "connection reset by peer" : tlsError(ssl_);
      return false;
    }
    if (!waitFor(fd_, events, deadline)) {
      *error = kDeadline;
      return false;
    }
    return true;
  }

  int fd_;
  SSL* ssl_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Decodes a chunked body; false while it is incomplete. `error` set when malformed.
bool decodeChunked(const std::string& in, std::string& out, std::string* error) {
  size_t pos = 0;
  out.clear();
  while (true) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    size_t size = 0;
    try {
      size = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    } catch (...) {
      *error = "malformed chunked encoding";
      return false;
    }
    pos = eol + 2;
    if (size == 0) return in.find("\r\n", pos) != std::string::npos;
    if (in.size() < pos + size + 2) return false;
    out.append(in, pos, size);
    pos += size + 2;
  }
}

}  // namespace

ClientResult sendRequest(const ClientRequest& request) {
  ClientResult result;
  auto deadline = Clock::now() + request.timeout;
  auto url = parseUrl(request.url, &result.error);
  if (!url) return result;
  int fd = connectTo(*url, deadline, &result.error);
  if (fd < 0) return result;
  // The caller's thread gets its OpenSSL error queue back empty, whatever
  // failed here (a refused certificate leaves its reasons queued), so its
  // own TLS connections' SSL_get_error is not misled. Destroyed last.
  struct ErrorQueueCleaner {
    ~ErrorQueueCleaner() { ERR_clear_error(); }
  } cleaner;
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(nullptr, SSL_CTX_free);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(nullptr, SSL_free);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (url->tls) {
    ctx.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (request.caPem.empty()) {
      SSL_CTX_set_default_verify_paths(ctx.get());
    } else {
      X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
      BIO* bio = BIO_new_mem_buf(request.caPem.data(), static_cast<int>(request.caPem.size()));
      int added = 0;
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, cert);
        X509_free(cert);
        ++added;
      }
      BIO_free(bio);
      ERR_clear_error();
      if (added == 0) {
        result.error = "x509: the CA bundle holds no certificate";
        return result;
      }
    }
    ssl.reset(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    if (isIpAddress(url->host)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, url->host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, url->host.c_str(), 0);
      SSL_set_tlsext_host_name(ssl.get(), url->host.c_str());
    }
    while (true) {
      ERR_clear_error();
      int rc = SSL_connect(ssl.get());
      if (rc == 1) break;
      int code = SSL_get_error(ssl.get(), rc);
      short events = code == SSL_ERROR_WANT_READ    ? POLLIN
                     : code == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                    : 0;
      if (events == 0) {
        result.error = tlsError(ssl.get());
        return result;
      }
      if (!waitFor(fd, events, deadline)) {
        result.error = kDeadline;
        return result;
      }
    }
  }
  Channel channel(fd, ssl.get());
  std::string head =
      request.method + " " + url->target + " HTTP/1.1\r\nHost: " + hostPort(*url) +
      "\r\nConnection: close\r\nContent-Length: " + std::to_string(request.body.size()) + "\r\n";
  for (const auto& [name, value] : request.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  if (!channel.write(head + request.body, deadline, &result.error)) return result;

  std::string raw;
  size_t headerEnd = std::string::npos;
  ClientResponse response;
  std::optional<size_t> contentLength;
  bool chunked = false;
  while (true) {
    if (headerEnd == std::string::npos) {
      headerEnd = raw.find("\r\n\r\n");
      if (headerEnd != std::string::npos) {
        std::string status = raw.substr(0, raw.find("\r\n"));
        if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12) {
          result.error = "malformed HTTP response \"" + status.substr(0, 64) + "\"";
          return result;
        }
        response.status = std::atoi(status.c_str() + 9);
        size_t pos = raw.find("\r\n") + 2;
        while (pos < headerEnd) {
          size_t eol = raw.find("\r\n", pos);
          std::string line = raw.substr(pos, eol - pos);
          size_t colon = line.find(':');
          if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
            response.headers[lower(line.substr(0, colon))] = value;
          }
          pos = eol + 2;
        }
        if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
          contentLength = std::strtoull(it->second.c_str(), nullptr, 10);
          if (*contentLength > request.maxResponseBytes) {
            result.error = "the response is larger than " +
                           std::to_string(request.maxResponseBytes) + " bytes";
            return result;
          }
        }
        auto te = response.headers.find("transfer-encoding");
        chunked =
            te != response.headers.end() && lower(te->second).find("chunked") != std::string::npos;
      }
    }
    if (headerEnd != std::string::npos) {
      std::string body = raw.substr(headerEnd + 4);
      if (contentLength && body.size() >= *contentLength) {
        response.body = body.substr(0, *contentLength);
        result.response = std::move(response);
        return result;
      }
      if (chunked) {
        std::string decoded;
        if (decodeChunked(body, decoded, &result.error)) {
          response.body = std::move(decoded);
          result.response = std::move(response);
          return result;
        }
        if (!result.error.empty()) return result;
      }
    }
    if (raw.size() > request.maxResponseBytes + 64 * 1024) {
      result.error =
          "the response is larger than " + std::to_string(request.maxResponseBytes) + " bytes";
      return result;
    }
    int n = channel.read(raw, deadline, &result.error);
    if (n < 0) return result;
    if (n == 0) {
      if (headerEnd == std::string::npos || contentLength || chunked) {
        result.error = "unexpected EOF";
        return result;
      }
      response.body = raw.substr(headerEnd + 4);
      result.response = std::move(response);
      return result;
    }
  }
}

}  // namespace remedy::http
