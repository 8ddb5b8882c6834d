// The only translation unit that includes cpprestsdk (it compiles slowly).
#include "kube/http_transport.h"

#include <cpprest/http_client.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <strings.h>

#include <atomic>
#include <map>
#include <mutex>

namespace remedy::kube {
namespace {

namespace http = web::http;
namespace client = web::http::client;

// cpprest's timeout is an inactivity limit (reset on every read and write);
// with no per-request or configured value, allow a long one.
constexpr auto kDefaultIdleTimeout = std::chrono::minutes(5);

bool validCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!cert) return false;
  X509_free(cert);
  return true;
}

bool validKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return false;
  EVP_PKEY_free(key);
  return true;
}

Headers toHeaders(const http::http_headers& in) {
  Headers out;
  for (const auto& [name, value] : in) out.emplace_back(name, value);
  return out;
}

std::string describe(const std::exception& e) {
  if (auto* he = dynamic_cast<const http::http_exception*>(&e)) {
    return std::string(he->what()) + " (" + he->error_code().message() + ")";
  }
  return e.what();
}

// One cpprest client (and connection pool) serves each distinct timeout, so
// timeouts are rounded up to a few values: watches ask for random ones.
Duration quantize(Duration d) {
  static const int kSeconds[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
  for (int s : kSeconds) {
    if (d <= std::chrono::seconds(s)) return std::chrono::seconds(s);
  }
  return std::chrono::hours(1);
}

struct TlsIdentity {
  std::string certPem;
  std::string keyPem;
  bool operator==(const TlsIdentity& o) const { return certPem == o.certPem && keyPem == o.keyPem; }
};

class CpprestStream : public ResponseStream {
 public:
  CpprestStream(Response head, http::http_response response, pplx::cancellation_token_source cts)
      : head_(std::move(head)), response_(std::move(response)), cts_(std::move(cts)) {}
  ~CpprestStream() override { cancel(); }

  const Response& head() const override { return head_; }

  bool read(std::string& chunk) override {
    chunk.clear();
    if (done_) return false;
    try {
      auto buf = response_.body().streambuf();
      // getn() waits until it can fill the whole buffer; wait for one byte,
      // then take whatever else has already arrived.
      auto c = buf.bumpc().get();
      if (c == concurrency::streams::streambuf<uint8_t>::traits::eof()) {
        done_ = true;
        if (cancelled_) setError("cancelled");
        return false;
      }
      chunk.push_back(static_cast<char>(c));
      size_t avail = buf.in_avail();
      if (avail > 0) {
        std::string more(avail, '\0');
        size_t n = buf.getn(reinterpret_cast<uint8_t*>(more.data()), avail).get();
        chunk.append(more.data(), n);
      }
      return true;
    } catch (const std::exception& e) {
      done_ = true;
      setError(cancelled_ ? "cancelled" : describe(e));
      return false;
    }
  }

  std::string error() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  void cancel() override {
    cancelled_ = true;
    cts_.cancel();
  }

 private:
  void setError(std::string e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(e);
  }
  Response head_;
  http::http_response response_;
  pplx::cancellation_token_source cts_;
  std::atomic<bool> cancelled_{false};
  bool done_ = false;      // only the reading thread touches it
  mutable std::mutex mu_;  // guards error_
  std::string error_;
};

class CpprestTransport : public Transport {
 public:
  CpprestTransport(const Config& config, std::shared_ptr<Credentials> credentials)
      : server_(config.server),
        caPem_(config.caPem),
        insecure_(config.insecureSkipTlsVerify),
        serverName_(config.tlsServerName),
        userAgent_(config.userAgent),
        defaultTimeout_(config.timeout.count() > 0 ? config.timeout
                                                   : Duration(kDefaultIdleTimeout)),
        credentials_(std::move(credentials)) {}

  ~CpprestTransport() override { cancelAll(); }

  Response send(const Request& request) override {
    Response out;
    auto prepared = prepare(request, &out);
    if (!prepared) return out;
    auto& [httpClient, message, cts] = *prepared;
    try {
      http::http_response response = httpClient->request(message, cts.get_token()).get();
      out.status = response.status_code();
      out.headers = toHeaders(response.headers());
      std::vector<unsigned char> body = response.extract_vector().get();
      out.body.assign(body.begin(), body.end());
    } catch (const std::exception& e) {
      out.status = 0;
      out.cancelled = cts.get_token().is_canceled();
      out.error = out.cancelled ? "request cancelled" : describe(e);
    }
    return out;
  }

  std::unique_ptr<ResponseStream> open(const Request& request) override {
    Response head;
    auto prepared = prepare(request, &head);
    if (!prepared) {
      return std::make_unique<CpprestStream>(head, http::http_response(),
                                             pplx::cancellation_token_source());
    }
    auto& [httpClient, message, cts] = *prepared;
    try {
      http::http_response response = httpClient->request(message, cts.get_token()).get();
      head.status = response.status_code();
      head.headers = toHeaders(response.headers());
      if (head.status < 200 || head.status > 299) {
        std::vector<unsigned char> body = response.extract_vector().get();
        head.body.assign(body.begin(), body.end());
      }
      return std::make_unique<CpprestStream>(std::move(head), std::move(response), cts);
    } catch (const std::exception& e) {
      head.status = 0;
      head.cancelled = cts.get_token().is_canceled();
      head.error = head.cancelled ? "request cancelled" : describe(e);
      return std::make_unique<CpprestStream>(std::move(head), http::http_response(), cts);
    }
  }

  void cancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    shutdown_.cancel();
  }

 private:
  struct Prepared {
    std::shared_ptr<client::http_client> httpClient;
    http::http_request message;
    pplx::cancellation_token_source cts;
  };

  std::optional<Prepared> prepare(const Request& request, Response* failure) {
    TlsIdentity identity;
    if (credentials_) {
      auto auth = credentials_->get();
      if (!auth) {
        failure->error = auth.status().message();
        return std::nullopt;
      }
      identity = {auth->clientCertificatePem, auth->clientKeyPem};
    }
    Duration timeout = quantize(request.timeout.count() > 0 ? request.timeout : defaultTimeout_);
    std::shared_ptr<client::http_client> httpClient;
    pplx::cancellation_token_source cts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) {
        failure->error = "transport is shut down";
        failure->cancelled = true;
        return std::nullopt;
      }
      if (!(identity == identity_)) {
        if (!identity.certPem.empty() &&
            (!validCertificate(identity.certPem) || !validKey(identity.keyPem))) {
          failure->error = "the client certificate or key is not valid PEM";
          return std::nullopt;
        }
        // New identity: new connections; requests in flight keep theirs.
        clients_.clear();
        identity_ = identity;
      }
      auto& slot = clients_[timeout.count()];
      if (!slot) slot = makeClient(timeout);
      httpClient = slot;
      auto token = shutdown_.get_token();
      cts = pplx::cancellation_token_source::create_linked_source(token);
    }
    http::http_request message(request.method);
    message.set_request_uri(request.target);
    std::string contentType;
    for (const auto& [name, value] : request.headers) {
      if (strcasecmp(name.c_str(), "Content-Type") == 0) {
        contentType = value;
      } else {
        message.headers().add(name, value);
      }
    }
    message.headers().add("User-Agent", userAgent_);
    // cpprest takes the name for SNI and certificate verification from the
    // Host header (calc_cn_host in http_client_asio.cpp).
    if (!serverName_.empty()) message.headers().add("Host", serverName_);
    if (!request.body.empty() || !contentType.empty()) {
      message.set_body(std::string(request.body),
                       contentType.empty() ? std::string("application/json") : contentType);
    }
    return Prepared{httpClient, message, cts};  // http_request is a handle: a copy shares it
  }

  std::shared_ptr<client::http_client> makeClient(Duration timeout) {
    client::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    cfg.set_validate_certificates(!insecure_);
    std::string ca = caPem_;
    TlsIdentity identity = identity_;
    cfg.set_ssl_context_callback([ca, identity](boost::asio::ssl::context& ctx) {
      try {
        if (!ca.empty()) {
          // Trust only the configured CA, as client-go does with RootCAs.
          SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
          ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
        }
        if (!identity.certPem.empty()) {
          ctx.use_certificate_chain(
              boost::asio::buffer(identity.certPem.data(), identity.certPem.size()));
          ctx.use_private_key(boost::asio::buffer(identity.keyPem.data(), identity.keyPem.size()),
                              boost::asio::ssl::context::pem);
        }
      } catch (const std::exception&) {
        // Checked before use; a failure here shows up as a handshake error.
      }
    });
    return std::make_shared<client::http_client>(server_, cfg);
  }

  const std::string server_;
  const std::string caPem_;
  const bool insecure_;
  const std::string serverName_;
  const std::string userAgent_;
  const Duration defaultTimeout_;
  const std::shared_ptr<Credentials> credentials_;

  std::mutex mu_;  // guards everything below
  std::map<Duration::rep, std::shared_ptr<client::http_client>> clients_;
  TlsIdentity identity_;
  pplx::cancellation_token_source shutdown_;
  bool closed_ = false;
};

}  // namespace

Result<std::unique_ptr<Transport>> makeHttpTransport(const Config& config,
                                                     std::shared_ptr<Credentials> credentials) {
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return Status::configError("server \"" + config.server + "\" is not an http(s) URL (" +
                               config.origin + ")");
  }
  if (!web::uri::validate(config.server)) {
    return Status::configError("server \"" + config.server + "\" is not a valid URL (" +
                               config.origin + ")");
  }
  if (!config.caPem.empty() && !validCertificate(config.caPem)) {
    return Status::configError("the certificate authority is not a PEM certificate (" +
                               config.origin + ")");
  }
  if (!config.clientCertificatePem.empty() && !validCertificate(config.clientCertificatePem)) {
    return Status::configError("the client certificate is not a PEM certificate (" + config.origin +
                               ")");
  }
  if (!config.clientKeyPem.empty() && !validKey(config.clientKeyPem)) {
    return Status::configError("the client key is not a PEM private key (" + config.origin + ")");
  }
  try {
    return std::unique_ptr<Transport>(std::make_unique<CpprestTransport>(config, credentials));
  } catch (const std::exception& e) {
    return Status::configError("server \"" + config.server + "\": " + e.what());
  }
}

}  // namespace remedy::kube
