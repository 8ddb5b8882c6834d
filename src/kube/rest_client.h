// Client over HTTP, with client-go's rules (rest/request.go, with_retry.go):
// each attempt waits for the budget's token bucket (QPS, burst); a 429, or a
// 5xx to a GET, with Retry-After in whole seconds is sent again after them,
// up to maxRetries times, within the request's deadline (a 5xx write may
// have been done); errors are decoded from metav1.Status.
#pragma once

#include "kube/client.h"
#include "kube/config.h"
#include "kube/discovery.h"
#include "kube/impersonation.h"
#include "kube/stop_signal.h"
#include "kube/token_bucket.h"
#include "kube/transport.h"

#include <memory>
#include <string>

namespace remedy::kube {

struct RestClientOptions {
  double qps = 5.0;  // <= 0: unlimited
  int burst = 10;
  std::string budget = "default";  // names qps and burst in metrics and logs
  int maxRetries = 10;
  Duration timeout{0};  // a request's deadline, Retry-After waits included; 0: none
  // Longest Retry-After honoured, so a misbehaving server cannot park a
  // caller for minutes.
  Duration maxRetryAfter{std::chrono::seconds(30)};
};

class RestClient : public Client {
 public:
  RestClient(std::shared_ptr<Transport> transport, RestClientOptions options = {},
             const Clock& clock = Clock::real());
  // Over `transport`, drawing on `throttle` (shared with other clients).
  RestClient(std::shared_ptr<Transport> transport, RestClientOptions options,
             std::shared_ptr<TokenBucket> throttle, const Clock& clock = Clock::real());
  ~RestClient() override;

  // Credentials, HTTPS transport and client, from a Config.
  static Result<std::unique_ptr<RestClient>> fromConfig(const Config& config,
                                                        const Clock& clock = Clock::real());

  Result<json> get(const Resource& resource, const std::string& ns, const std::string& name,
                   const GetOptions& options = {}) override;
  Result<json> list(const Resource& resource, const std::string& ns,
                    const ListOptions& options = {}) override;
  Result<json> create(const Resource& resource, const std::string& ns, const json& object,
                      const WriteOptions& options = {}) override;
  Result<json> update(const Resource& resource, const std::string& ns, const json& object,
                      const WriteOptions& options = {}) override;
  Result<json> patch(const Resource& resource, const std::string& ns, const std::string& name,
                     const std::string& body, const PatchOptions& options = {}) override;
  Result<json> remove(const Resource& resource, const std::string& ns, const std::string& name,
                      const DeleteOptions& options = {}) override;
  Result<std::unique_ptr<WatchStream>> watch(const Resource& resource, const std::string& ns,
                                             const ListOptions& options) override;
  Result<Resource> resourceFor(const std::string& apiVersion, const std::string& kind) override;
  Result<std::string> getText(const Resource& resource, const std::string& ns,
                              const std::string& name, const TextGetOptions& options) override;

  // GET of any path ("/version", "/apis"), decoded as JSON.
  Result<json> getPath(const std::string& target);
  // Any request; the answer body decoded as JSON (an empty body as {}).
  Result<json> call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& contentType = "",
                    Duration timeout = Duration(0));

  // A client acting as `as` (client-go's rest.Config.Impersonate) over this
  // client's transport, credentials, options and throttle (the requests of
  // every identity a part of the process acts as count against that part's
  // budget), with its own discovery cache. It may outlive neither this
  // client nor its transport.
  std::unique_ptr<RestClient> impersonating(const Impersonation& as) const;

  // Ends requests in flight and refuses new ones.
  void shutdown();
  Discovery& discovery() { return discovery_; }

 private:
  Response execute(Request request);
  Duration timeoutOr(Duration d) const { return d.count() > 0 ? d : options_.timeout; }

  std::shared_ptr<Transport> transport_;
  const RestClientOptions options_;
  const Clock& clock_;
  std::shared_ptr<TokenBucket> throttle_;
  StopSignal shutdown_;
  Discovery discovery_;
};

}  // namespace remedy::kube
