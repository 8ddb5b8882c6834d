// The only translation unit of the web actions that includes cpprestsdk.
#include "actions/web_client.h"

#include "kube/base64.h"

#include <cpprest/http_client.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <strings.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>

namespace remedy::actions {
namespace {

namespace http = web::http;
namespace client = web::http::client;
using Clock = std::chrono::steady_clock;

std::string describe(const std::exception& e) {
  if (auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    std::string what = he->what();
    std::string code = he->error_code().message();
    // cpprest reports an OpenSSL error in the generic category ("Unknown
    // error 167772294"); OpenSSL knows its text ("certificate verify failed").
    if (what.find("SSL") != std::string::npos && code.rfind("Unknown error", 0) == 0) {
      const char* reason =
          ERR_reason_error_string(static_cast<unsigned long>(he->error_code().value()));
      if (reason != nullptr) code = reason;
    }
    if (code.empty() || what.find(code) != std::string::npos) return what;
    return what + " (" + code + ")";
  }
  return e.what();
}

std::string formatSeconds(std::chrono::milliseconds d) {
  std::ostringstream out;
  out << static_cast<double>(d.count()) / 1000.0 << "s";
  return out.str();
}

// Waits for a pplx task until `deadline` without blocking past it (pplx has
// no timed wait). The continuation owns what it touches, so returning early
// is safe: the task finishes on cpprest's thread pool and cleans up, keeping
// `keepAlive` (the client, a buffer it writes into) until then.
template <typename T>
std::future<T> futureOf(pplx::task<T> task, std::shared_ptr<void> keepAlive) {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  task.then([promise, keepAlive](pplx::task<T> done) {
    try {
      promise->set_value(done.get());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  return future;
}

// The CA file as PEM, checked here because a failure inside cpprest's
// ssl_context_callback can only surface as an opaque handshake error.
bool readCaFile(const std::string& path, std::string* pem, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "CA file " + path + ": cannot be read";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *pem = ss.str();
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) {
    *error = "CA file " + path + ": not a PEM certificate";
    return false;
  }
  X509_free(cert);
  return true;
}

class CpprestWebClient : public WebClient {
 public:
  WebResponse send(const WebRequest& request) override {
    WebResponse out;
    const auto deadline = Clock::now() + request.timeout;
    if (request.timeout.count() <= 0) {
      out.error = "no time left for the request";
      out.timedOut = true;
      return out;
    }
    web::uri uri;
    try {
      uri = web::uri(request.url);
    } catch (const std::exception&) {
      out.error = "not a valid URL";
      out.invalid = true;
      return out;
    }
    std::string scheme = uri.scheme();
    if ((scheme != "http" && scheme != "https") || uri.host().empty()) {
      out.error = "not an http:// or https:// URL";
      out.invalid = true;
      return out;
    }
    std::string caPem;
    if (!request.tls.caFile.empty() && !readCaFile(request.tls.caFile, &caPem, &out.error)) {
      out.invalid = true;
      return out;
    }

    client::http_client_config config;
    // cpprest's timeout limits inactivity; the total is bounded by the waits
    // below.
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(request.timeout));
    config.set_validate_certificates(request.tls.verify);
    config.set_max_redirects(0);
    if (!caPem.empty()) {
      config.set_ssl_context_callback([caPem](boost::asio::ssl::context& ctx) {
        try {
          ctx.add_certificate_authority(boost::asio::buffer(caPem.data(), caPem.size()));
        } catch (const std::exception&) {
          // Checked by readCaFile; a failure here is a handshake error.
        }
      });
    }
    std::shared_ptr<client::http_client> httpClient;
    http::http_request message(request.method);
    try {
      // user:password@ in the URL becomes Basic authentication (cpprest
      // would drop it) and is kept out of the request line.
      web::uri_builder base(uri.authority());
      base.set_user_info("");
      httpClient = std::make_shared<client::http_client>(base.to_uri(), config);
      web::uri_builder resource;
      resource.set_path(uri.path().empty() ? "/" : uri.path()).set_query(uri.query());
      message.set_request_uri(resource.to_uri());
    } catch (const std::exception&) {
      out.error = "not a valid URL";
      out.invalid = true;
      return out;
    }

    std::string contentType;
    bool hasAuthorization = false;
    bool hasUserAgent = false;
    for (const auto& [name, value] : request.headers) {
      if (strcasecmp(name.c_str(), "Content-Type") == 0) {
        contentType = value;
        continue;
      }
      hasAuthorization |= strcasecmp(name.c_str(), "Authorization") == 0;
      hasUserAgent |= strcasecmp(name.c_str(), "User-Agent") == 0;
      message.headers().add(name, value);
    }
    if (!uri.user_info().empty() && !hasAuthorization) {
      message.headers().add("Authorization",
                            "Basic " + kube::encodeBase64(web::uri::decode(uri.user_info())));
    }
    if (!hasUserAgent) message.headers().add("User-Agent", "remedy-operator");
    if (!request.body.empty() || !contentType.empty()) {
      message.set_body(std::string(request.body),
                       contentType.empty() ? std::string("application/json") : contentType);
    }

    pplx::cancellation_token_source cancel;
    const std::string within = " within " + formatSeconds(request.timeout);
    http::http_response response;
    try {
      auto future = futureOf(httpClient->request(message, cancel.get_token()), httpClient);
      if (future.wait_until(deadline) != std::future_status::ready) {
        cancel.cancel();
        out.error = "no response" + within;
        out.timedOut = true;
        return out;
      }
      response = future.get();
    } catch (const std::exception& e) {
      out.timedOut = Clock::now() >= deadline;
      out.error = out.timedOut ? "no response" + within : describe(e);
      return out;
    }
    out.status = response.status_code();
    for (const auto& [name, value] : response.headers()) out.headers.emplace_back(name, value);
    if (request.method == "HEAD") return out;

    // Read at most one byte more than the limit: that byte says "truncated".
    constexpr size_t kChunkBytes = 64 * 1024;
    auto chunk = std::make_shared<std::vector<uint8_t>>(kChunkBytes);
    auto keepAlive = std::make_shared<
        std::pair<std::shared_ptr<client::http_client>, std::shared_ptr<std::vector<uint8_t>>>>(
        httpClient, chunk);
    std::string& body = out.body;
    try {
      auto stream = response.body().streambuf();
      while (body.size() <= request.maxResponseBytes) {
        size_t want = std::min(kChunkBytes, request.maxResponseBytes + 1 - body.size());
        // getn() completes when `want` bytes arrived or the body ended.
        auto future = futureOf(stream.getn(chunk->data(), want), keepAlive);
        if (future.wait_until(deadline) != std::future_status::ready) {
          cancel.cancel();
          body.clear();
          out.error = "the response body did not arrive" + within;
          out.timedOut = true;
          return out;
        }
        size_t n = future.get();
        if (n == 0) break;
        body.append(reinterpret_cast<const char*>(chunk->data()), n);
      }
    } catch (const std::exception& e) {
      body.clear();
      out.timedOut = Clock::now() >= deadline;
      out.error = out.timedOut ? "the response body did not arrive" + within
                               : "reading the response body: " + describe(e);
      return out;
    }
    if (body.size() > request.maxResponseBytes) {
      out.truncated = true;
      body.resize(request.maxResponseBytes);
      cancel.cancel();  // stop the download: cpprest would buffer all of it
    }
    return out;
  }
};

// The length of the valid UTF-8 sequence at text[i], or 0 when invalid.
size_t utf8SequenceLength(const std::string& text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t length = 0;
  uint32_t min = 0;
  uint32_t code = 0;
  if ((c & 0xE0) == 0xC0) {
    length = 2;
    min = 0x80;
    code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    min = 0x800;
    code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    min = 0x10000;
    code = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

std::string WebResponse::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

std::shared_ptr<WebClient> makeWebClient() { return std::make_shared<CpprestWebClient>(); }

std::string redactSecrets(std::string text, std::vector<std::string> secrets) {
  static const std::string kRedacted = "[redacted]";
  // Longest first: a secret that contains another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  return text;
}

std::string utf8Excerpt(const std::string& text, size_t maxBytes) {
  static const std::string kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(text.size(), maxBytes));
  size_t i = 0;
  while (i < text.size()) {
    size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      if (out.size() + kReplacement.size() > maxBytes) break;
      out += kReplacement;
      ++i;
      continue;
    }
    if (out.size() + length > maxBytes) break;
    out.append(text, i, length);
    i += length;
  }
  return out;
}

}  // namespace remedy::actions
