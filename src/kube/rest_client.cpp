#include "kube/rest_client.h"

#include "kube/metrics.h"

#include "kube/authenticating_transport.h"
#include "kube/credentials.h"
#include "kube/http_transport.h"
#include "kube/json_frames.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

namespace remedy::kube {
namespace {

class Query {
 public:
  Query& add(const std::string& key, const std::string& value) {
    if (value.empty()) return *this;
    out_ += (out_.empty() ? "?" : "&") + key + "=" + urlEncode(value);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

Status statusOf(const Response& r) {
  if (r.status == 0) {
    if (r.cancelled) return Status::error(0, reason::kCancelled, r.error);
    return Status::connectionFailed(r.error.empty() ? "no response" : r.error);
  }
  int retryAfter = std::atoi(headerValue(r.headers, "Retry-After").c_str());
  return Status::fromHttp(r.status, r.body, retryAfter);
}

Result<json> decode(const Response& r) {
  if (r.status < 200 || r.status > 299) return statusOf(r);
  if (r.body.empty()) return json::object();
  json parsed = json::parse(r.body, nullptr, false);
  if (parsed.is_discarded()) {
    return Status::error(r.status, reason::kDecodeError, "the response is not JSON");
  }
  return parsed;
}

Request jsonRequest(const std::string& method, const std::string& target, std::string body,
                    const std::string& contentType) {
  Request request;
  request.method = method;
  request.target = target;
  request.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type",
                                 contentType.empty() ? "application/json" : contentType);
  }
  request.body = std::move(body);
  return request;
}

WatchEventType parseEventType(const std::string& t, bool* ok) {
  *ok = true;
  if (t == "ADDED") return WatchEventType::Added;
  if (t == "MODIFIED") return WatchEventType::Modified;
  if (t == "DELETED") return WatchEventType::Deleted;
  if (t == "BOOKMARK") return WatchEventType::Bookmark;
  if (t == "ERROR") return WatchEventType::Error;
  *ok = false;
  return WatchEventType::Error;
}

class RestWatchStream : public WatchStream {
 public:
  explicit RestWatchStream(std::unique_ptr<ResponseStream> stream) : stream_(std::move(stream)) {}

  std::optional<WatchEvent> next() override {
    while (true) {
      if (auto frame = frames_.next()) {
        json parsed = json::parse(*frame, nullptr, false);
        bool known = false;
        WatchEventType type = WatchEventType::Error;
        if (!parsed.is_discarded() && parsed.is_object()) {
          type = parseEventType(parsed.value("type", ""), &known);
        }
        if (!known || !parsed.contains("object")) {
          finish(Status::error(0, reason::kDecodeError,
                               "watch: undecodable event: " + frame->substr(0, 200)));
          return std::nullopt;
        }
        return WatchEvent{type, std::move(parsed["object"])};
      }
      std::string chunk;
      if (!stream_->read(chunk)) {
        std::string error = stream_->error();
        if (error == "cancelled") {
          finish(Status::error(0, reason::kCancelled, "watch cancelled"));
        } else if (!error.empty()) {
          finish(Status::connectionFailed("watch: " + error));
        } else if (frames_.pending() > 0) {
          finish(Status::connectionFailed("watch: the stream ended inside an event"));
        } else {
          finish(Status());
        }
        return std::nullopt;
      }
      frames_.feed(chunk);
    }
  }

  Status status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  void cancel() override { stream_->cancel(); }

 private:
  void finish(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(s);
  }
  std::unique_ptr<ResponseStream> stream_;
  JsonFrames frames_;
  mutable std::mutex mu_;  // guards status_
  Status status_;
};

// rest/request.go retryAfterSeconds: the Retry-After header as whole
// seconds (strconv.Atoi); an HTTP date or anything else is none.
std::optional<int> retryAfterSeconds(const Response& r) {
  std::string h = headerValue(r.headers, "Retry-After");
  if (h.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long n = std::strtol(h.c_str(), &end, 10);
  if (*end != '\0' || errno != 0 || n < INT_MIN || n > INT_MAX) return std::nullopt;
  return static_cast<int>(n);
}

// What a throttled answer is called in metrics and logs.
std::string throttleReason(int code) {
  if (code == 429) return reason::kTooManyRequests;
  if (code == 503) return reason::kServiceUnavailable;
  return "ServerError";
}

// Whether a request answered `code` may be sent again: 429 is API Priority
// and Fairness's (or max-in-flight's) refusal before the request is served,
// so any verb; after a 5xx a write may have been done, so reads only.
bool safeToRepeat(const std::string& method, int code) {
  return code == 429 || method == "GET" || method == "HEAD";
}

std::string formatSeconds(Duration d) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1fs", std::chrono::duration<double>(d).count());
  return out;
}

// The answer of a request whose Retry-After would outlast its deadline: the
// server's code, reason and details, with a message that says why it was not
// retried.
Response beyondDeadline(const Response& r, const std::string& budget, int retryAfter, Duration left,
                        Duration timeout) {
  json status = json::parse(r.body, nullptr, false);
  if (status.is_discarded() || !status.is_object() || status.value("kind", "") != "Status") {
    status = {{"kind", "Status"},
              {"apiVersion", "v1"},
              {"status", "Failure"},
              {"code", r.status},
              {"reason", throttleReason(r.status)},
              {"message", r.body.substr(0, 200)}};
  }
  std::string server = status.value("message", "");
  status["message"] = "the API server asked the " + budget + " client to retry after " +
                      std::to_string(retryAfter) +
                      "s (Retry-After), beyond this request's deadline (" + formatSeconds(left) +
                      " left of " + formatSeconds(timeout) + "); not retried" +
                      (server.empty() ? "" : ": " + server);
  status["details"]["retryAfterSeconds"] = retryAfter;
  Response out = r;
  out.body = status.dump();
  return out;
}

// Each budget's bursts of throttled answers, so a burst is logged when it
// starts and when it is over, not once per answer. By budget name: the
// clients impersonating() makes share their base's.
class ThrottleBursts {
 public:
  // A burst is over when no throttled answer has come for this long.
  static constexpr Duration kQuiet = std::chrono::seconds(10);

  void throttled(const std::string& budget, const Response& response, const std::string& reason,
                 int retryAfter, TimePoint now) {
    std::lock_guard<std::mutex> lock(mu_);
    Burst& b = bursts_[budget];
    if (b.answers > 0 && now - b.last >= kQuiet) ended(budget, b);
    b.last = now;
    if (b.answers++ > 0) return;
    b.since = now;
    any_ = true;
    // API Priority and Fairness names the FlowSchema and the priority level
    // that refused a request (request.go getRetryReason).
    spdlog::warn(
        "event=api-throttled budget={} code={} reason={} retryAfterSeconds={} flowSchemaUid={} "
        "priorityLevelUid={}: the API server asks this client to slow down; its requests wait as "
        "Retry-After says and are sent again, and the throttled answers that follow are only "
        "counted (remedy_kube_client_throttled_total) until none has come for {}s",
        budget, response.status, reason, retryAfter,
        headerValue(response.headers, "X-Kubernetes-PF-FlowSchema-UID"),
        headerValue(response.headers, "X-Kubernetes-PF-PriorityLevel-UID"),
        std::chrono::duration_cast<std::chrono::seconds>(kQuiet).count());
  }

  void served(const std::string& budget, TimePoint now) {
    if (!any_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = bursts_.find(budget);
    if (it == bursts_.end() || it->second.answers == 0 || now - it->second.last < kQuiet) return;
    ended(budget, it->second);
  }

 private:
  struct Burst {
    int answers = 0;  // throttled answers in the burst
    TimePoint since;  // its first
    TimePoint last;   // its latest
  };
  static void ended(const std::string& budget, Burst& b) {
    spdlog::info("event=api-throttle-ended budget={} throttled={} overMs={}", budget, b.answers,
                 std::chrono::duration_cast<std::chrono::milliseconds>(b.last - b.since).count());
    b.answers = 0;
  }
  std::atomic<bool> any_{false};  // a burst was ever seen (a fast path)
  std::mutex mu_;                 // guards bursts_
  std::map<std::string, Burst> bursts_;
};

ThrottleBursts& bursts() {
  static ThrottleBursts b;
  return b;
}

std::string writeQuery(const std::string& fieldManager, bool dryRun) {
  Query q;
  q.add("fieldManager", fieldManager);
  if (dryRun) q.add("dryRun", "All");
  return q.str();
}

}  // namespace

RestClient::RestClient(std::shared_ptr<Transport> transport, RestClientOptions options,
                       const Clock& clock)
    : RestClient(std::move(transport), options,
                 std::make_shared<TokenBucket>(options.qps, options.burst, clock), clock) {}

RestClient::RestClient(std::shared_ptr<Transport> transport, RestClientOptions options,
                       std::shared_ptr<TokenBucket> throttle, const Clock& clock)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      clock_(clock),
      throttle_(std::move(throttle)),
      discovery_([this](const std::string& path) { return getPath(path); }) {}

RestClient::~RestClient() { shutdown(); }

Result<std::unique_ptr<RestClient>> RestClient::fromConfig(const Config& config,
                                                           const Clock& clock) {
  auto credentials = makeCredentials(config, clock);
  auto http = makeHttpTransport(config, credentials);
  if (!http) return http.status();
  auto transport = std::make_shared<AuthenticatingTransport>(std::move(http.value()), credentials);
  RestClientOptions options;
  options.qps = config.qps;
  options.burst = config.burst;
  options.budget = config.budget;
  options.timeout = config.timeout;
  options.maxRetries = config.maxRetries;
  return std::make_unique<RestClient>(transport, options, clock);
}

std::unique_ptr<RestClient> RestClient::impersonating(const Impersonation& as) const {
  return std::make_unique<RestClient>(std::make_shared<ImpersonatingTransport>(transport_, as),
                                      options_, throttle_, clock_);
}

void RestClient::shutdown() {
  shutdown_.requestStop();
  transport_->cancelAll();
}

Response RestClient::execute(Request request) {
  // The request's deadline, as a context's in client-go: its timeout from
  // the first attempt, which the Retry-After waits and later attempts share.
  const Duration timeout = request.timeout;
  std::optional<TimePoint> deadline;
  for (int attempt = 0;; ++attempt) {
    TimePoint queued = clock_.now();
    if (!throttle_->wait(&shutdown_)) {
      Response cancelled;
      cancelled.cancelled = true;
      cancelled.error = "client is shut down";
      return cancelled;
    }
    TimePoint sent = clock_.now();
    metricsSink().rateLimiterWait(options_.budget, request.method, sent - queued);
    if (timeout.count() > 0) {
      if (!deadline) deadline = sent + timeout;
      request.timeout = std::max(Duration(std::chrono::milliseconds(1)), *deadline - sent);
    }
    Response response = transport_->send(request);
    metricsSink().apiRequest(options_.budget, request.method, response.status, clock_.now() - sent);
    // request.go checkWait: 429 and 5xx answers with Retry-After.
    std::optional<int> retryAfter = retryAfterSeconds(response);
    if (!retryAfter || (response.status != 429 && response.status < 500)) {
      bursts().served(options_.budget, clock_.now());
      return response;
    }
    std::string reason = throttleReason(response.status);
    bursts().throttled(options_.budget, response, reason, *retryAfter, clock_.now());
    if (!safeToRepeat(request.method, response.status) || attempt >= options_.maxRetries) {
      metricsSink().throttled(options_.budget, reason, Duration(0));
      return response;
    }
    Duration wait =
        std::min<Duration>(std::chrono::seconds(std::max(0, *retryAfter)), options_.maxRetryAfter);
    TimePoint now = clock_.now();
    if (deadline && now + wait >= *deadline) {
      metricsSink().throttled(options_.budget, reason, Duration(0));
      return beyondDeadline(response, options_.budget, *retryAfter, *deadline - now, timeout);
    }
    metricsSink().throttled(options_.budget, reason, wait);
    if (shutdown_.waitFor(clock_, wait)) return response;
  }
}

Result<json> RestClient::call(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& contentType,
                              Duration timeout) {
  Request request = jsonRequest(method, target, body, contentType);
  request.timeout = timeoutOr(timeout);
  return decode(execute(std::move(request)));
}

Result<json> RestClient::getPath(const std::string& target) { return call("GET", target); }

Result<json> RestClient::get(const Resource& resource, const std::string& ns,
                             const std::string& name, const GetOptions& options) {
  std::string target = resource.path(ns, name, options.subresource) +
                       Query().add("resourceVersion", options.resourceVersion).str();
  return call("GET", target, "", "", options.timeout);
}

Result<std::string> RestClient::getText(const Resource& resource, const std::string& ns,
                                        const std::string& name, const TextGetOptions& options) {
  Query q;
  for (const auto& [key, value] : options.params) q.add(key, value);
  Request request;
  request.method = "GET";
  request.target = resource.path(ns, name, options.subresource) + q.str();
  // Errors still come as a JSON metav1.Status.
  request.headers.emplace_back("Accept", "text/plain, application/json");
  request.timeout = options.timeout;
  Response response = execute(std::move(request));
  if (response.status < 200 || response.status > 299) return statusOf(response);
  if (options.maxBytes > 0 && response.body.size() > options.maxBytes) {
    response.body.resize(options.maxBytes);
  }
  return std::move(response.body);
}

Result<json> RestClient::list(const Resource& resource, const std::string& ns,
                              const ListOptions& options) {
  Query q;
  q.add("labelSelector", options.labelSelector)
      .add("fieldSelector", options.fieldSelector)
      .add("resourceVersion", options.resourceVersion)
      .add("resourceVersionMatch", options.resourceVersionMatch)
      .add("continue", options.continueToken);
  if (options.limit > 0) q.add("limit", std::to_string(options.limit));
  return call("GET", resource.path(ns) + q.str(), "", "", options.timeout);
}

Result<json> RestClient::create(const Resource& resource, const std::string& ns, const json& object,
                                const WriteOptions& options) {
  std::string target = options.subresource.empty()
                           ? resource.path(ns)
                           : resource.path(ns, nameOf(object), options.subresource);
  return call("POST", target + writeQuery(options.fieldManager, options.dryRun), object.dump(),
              "application/json", options.timeout);
}

Result<json> RestClient::update(const Resource& resource, const std::string& ns, const json& object,
                                const WriteOptions& options) {
  std::string name = nameOf(object);
  if (name.empty()) {
    return Status::error(0, reason::kBadRequest, "update: the object has no metadata.name");
  }
  std::string target = resource.path(ns, name, options.subresource) +
                       writeQuery(options.fieldManager, options.dryRun);
  return call("PUT", target, object.dump(), "application/json", options.timeout);
}

Result<json> RestClient::patch(const Resource& resource, const std::string& ns,
                               const std::string& name, const std::string& body,
                               const PatchOptions& options) {
  if (options.type == PatchType::Apply && options.fieldManager.empty()) {
    return Status::error(0, reason::kBadRequest,
                         "server-side apply needs a fieldManager (PatchOptions.fieldManager)");
  }
  Query q;
  q.add("fieldManager", options.fieldManager);
  if (options.dryRun) q.add("dryRun", "All");
  if (options.force) q.add("force", *options.force ? "true" : "false");
  return call("PATCH", resource.path(ns, name, options.subresource) + q.str(), body,
              patchContentType(options.type), options.timeout);
}

Result<json> RestClient::remove(const Resource& resource, const std::string& ns,
                                const std::string& name, const DeleteOptions& options) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagationPolicy.empty()) body["propagationPolicy"] = options.propagationPolicy;
  if (options.gracePeriodSeconds) body["gracePeriodSeconds"] = *options.gracePeriodSeconds;
  if (!options.preconditionUid.empty()) body["preconditions"]["uid"] = options.preconditionUid;
  if (!options.preconditionResourceVersion.empty()) {
    body["preconditions"]["resourceVersion"] = options.preconditionResourceVersion;
  }
  if (options.dryRun) body["dryRun"] = json::array({"All"});
  return call("DELETE", resource.path(ns, name), body.dump(), "application/json", options.timeout);
}

Result<std::unique_ptr<WatchStream>> RestClient::watch(const Resource& resource,
                                                       const std::string& ns,
                                                       const ListOptions& options) {
  Query q;
  q.add("watch", "true")
      .add("labelSelector", options.labelSelector)
      .add("fieldSelector", options.fieldSelector)
      .add("resourceVersion", options.resourceVersion)
      .add("resourceVersionMatch", options.resourceVersionMatch);
  if (options.allowWatchBookmarks) q.add("allowWatchBookmarks", "true");
  if (options.timeoutSeconds > 0) q.add("timeoutSeconds", std::to_string(options.timeoutSeconds));
  Request request = jsonRequest("GET", resource.path(ns) + q.str(), "", "");
  // The server ends the watch after timeoutSeconds; the transport's
  // inactivity limit only needs to outlast the quiet stretches between
  // events or bookmarks.
  request.timeout = options.timeout.count() > 0 ? options.timeout
                    : options.timeoutSeconds > 0
                        ? Duration(std::chrono::seconds(options.timeoutSeconds + 30))
                        : Duration(std::chrono::minutes(15));
  TimePoint queued = clock_.now();
  if (!throttle_->wait(&shutdown_)) {
    return Status::error(0, reason::kCancelled, "client is shut down");
  }
  metricsSink().rateLimiterWait(options_.budget, "WATCH", clock_.now() - queued);
  auto stream = transport_->open(request);
  const Response& head = stream->head();
  if (head.status < 200 || head.status > 299) return statusOf(head);
  return std::unique_ptr<WatchStream>(std::make_unique<RestWatchStream>(std::move(stream)));
}

Result<Resource> RestClient::resourceFor(const std::string& apiVersion, const std::string& kind) {
  return discovery_.resourceFor(apiVersion, kind);
}

}  // namespace remedy::kube
