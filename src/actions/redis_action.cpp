#include "actions/redis_action.h"

#include "actions/pod_logs_action.h"
#include "actions/redaction.h"
#include "actions/redis_connection.h"
#include "actions/secret_ref.h"
#include "api/typed_values.h"
#include "kube/time_format.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::actions {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUrlField = "redis.connection.secretKeyRef";
constexpr const char* kUrlForm = "redis://[[user]:password@]host[:port][/db]";
// What hiredis (strerror(EAGAIN)) reports when a socket timeout expires.
constexpr const char* kSocketTimedOut = "Resource temporarily unavailable";
// A command always gets at least this long, even right at the deadline.
constexpr milliseconds kMinTimeout{1000};
// SCAN's COUNT hint (buckets visited per call) and keys per UNLINK.
constexpr const char* kScanCount = "1000";
constexpr size_t kUnlinkBatch = 500;
constexpr long long kDefaultMaxCount = 1000;
constexpr long long kMaxMaxCount = 1000000;
constexpr size_t kMaxPatternLength = 1024;
constexpr size_t kMaxConfigValueLength = 256;
constexpr size_t kMaxErrorLength = 512;
constexpr size_t kMaxInfoKeyLength = 128;
// slowlog: entries asked for, and what each keeps of an entry: the command
// and its first arguments, each cut; the entries output stays under 3 KiB.
constexpr long long kDefaultSlowlogCount = 10;
constexpr long long kMaxSlowlogCount = 128;
constexpr size_t kSlowlogArgs = 3;
constexpr size_t kSlowlogArgLength = 64;
constexpr size_t kSlowlogClientLength = 64;
constexpr size_t kMaxEntriesBytes = 3072;
// memoryUsage: keys measured, SCAN calls, the keys listed by size, and how
// much of a key name an output keeps.
constexpr long long kDefaultMaxKeys = 1000;
constexpr long long kMaxMaxKeys = 100000;
constexpr long long kMaxScanCalls = 1000;
constexpr size_t kTopKeys = 5;
constexpr size_t kKeyNameLength = 128;
// How soon the engine calls deleteKeys again after a call ran out of time,
// and after a call lost its connection having done some work.
constexpr milliseconds kContinueAfter{1};
constexpr milliseconds kReconnectAfter{1000};

const std::vector<std::string>& infoSections() {
  static const std::vector<std::string> sections = {"default",     "server",      "clients",
                                                    "memory",      "persistence", "stats",
                                                    "replication", "cpu",         "keyspace"};
  return sections;
}

// The parameters configSet may change (the CRD's enum, checked again here:
// the action must not trust that the schema was enforced).
const std::vector<std::string>& configParameters() {
  static const std::vector<std::string> parameters = {
      "maxmemory", "maxmemory-policy",        "maxclients",
      "timeout",   "slowlog-log-slower-than", "slowlog-max-len"};
  return parameters;
}

bool isOneOf(const std::string& value, const std::vector<std::string>& list) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// Printable ASCII only (status is JSON and must stay valid UTF-8), cut at
// `limit` characters.
std::string clean(const std::string& text, size_t limit) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > limit) out += "...";
  return out;
}

std::string inQuotes(const std::string& text) { return "\"" + clean(text, 64) + "\""; }

bool allDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

timeval toTimeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// ---- the URL ----

struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;

  std::string endpoint() const {
    bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

bool percentDecode(const std::string& in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      return false;
    }
    *out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return true;
}

// redis://[[user]:password@]host[:port][/db], as redis-cli reads it: user
// info without a colon is a password. `problem` never quotes the text, which
// holds the password.
std::optional<RedisUrl> parseRedisUrl(std::string text, std::string* problem) {
  auto isSpace = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && isSpace(text.back())) text.pop_back();
  text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), isSpace));
  std::string scheme = text.substr(0, std::min<size_t>(text.find("://"), 16));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "rediss") {
    *problem = "TLS is not supported by this build (rediss://: its hiredis has no TLS)";
    return std::nullopt;
  }
  if (scheme != "redis" || text.find("://") == std::string::npos) {
    *problem = "the value is not a redis:// URL";
    return std::nullopt;
  }
  std::string rest = text.substr(text.find("://") + 3);
  if (rest.find_first_of("?#") != std::string::npos) {
    *problem = "query parameters and fragments are not supported";
    return std::nullopt;
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (path.find('@') != std::string::npos) {
    *problem = "a '/' in the user or password must be written %2F";
    return std::nullopt;
  }
  RedisUrl url;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    std::string user = colon == std::string::npos ? "" : userinfo.substr(0, colon);
    std::string password = colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
    if (!percentDecode(user, &url.user) || !percentDecode(password, &url.password)) {
      *problem = "the user or password has an invalid %-escape";
      return std::nullopt;
    }
  }
  std::string port;
  bool hasPort = false;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) {
      *problem = "the host has an unclosed '['";
      return std::nullopt;
    }
    url.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      *problem = "the host is followed by something other than :port";
      return std::nullopt;
    }
    hasPort = !after.empty();
    if (hasPort) port = after.substr(1);
  } else {
    size_t colon = authority.find(':');
    url.host = authority.substr(0, colon);
    hasPort = colon != std::string::npos;
    if (hasPort) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    *problem = "the URL has no host";
    return std::nullopt;
  }
  if (hasPort) {
    if (!allDigits(port) || port.size() > 5 || std::stoi(port) < 1 || std::stoi(port) > 65535) {
      *problem = "the port is not a number from 1 to 65535";
      return std::nullopt;
    }
    url.port = std::stoi(port);
  }
  if (!path.empty()) {
    if (!allDigits(path) || path.size() > 5) {
      *problem = "the database (the path) is not a number";
      return std::nullopt;
    }
    url.db = std::stoi(path);
  }
  return url;
}

// ---- parameters ----

enum class Operation { kInfo, kSlowlog, kMemoryUsage, kConfigSet, kDeleteKeys };

struct RedisParams {
  Operation operation = Operation::kInfo;
  std::string section = "default";         // info
  long long count = kDefaultSlowlogCount;  // slowlog
  std::string parameter;                   // configSet
  std::string value;                       // configSet
  std::string pattern;                     // memoryUsage, deleteKeys
  long long maxCount = kDefaultMaxCount;
  long long maxKeys = kDefaultMaxKeys;  // memoryUsage
};

// An optional count `name` of `object` (a number, or its digits: templates
// render text) from 1 to `max`; an error naming `path` otherwise.
std::optional<std::string> readCount(const json& object, const char* name, const std::string& path,
                                     long long max, long long* out) {
  if (!object.contains(name) || object[name].is_null()) return std::nullopt;
  const json& value = object[name];
  long long n = -1;
  if (value.is_number_integer()) {
    n = value.get<long long>();
  } else if (value.is_string() && allDigits(value.get<std::string>()) &&
             value.get<std::string>().size() <= 7) {
    n = std::stoll(value.get<std::string>());
  }
  if (n < 1 || n > max) {
    return path + ": " + clean(value.dump(), 32) + " is not a number from 1 to " +
           std::to_string(max);
  }
  *out = n;
  return std::nullopt;
}

// Every failure here is the Runbook's: permanent.
std::optional<std::string> parseParams(const json& params, RedisParams* out) {
  if (!params.is_object()) return "redis: the step's redis field is not an object";
  int operations = 0;
  for (const char* name : {"info", "slowlog", "memoryUsage", "configSet", "deleteKeys"}) {
    if (params.contains(name) && !params[name].is_null()) ++operations;
  }
  if (operations != 1) {
    return "redis: exactly one of info, slowlog, memoryUsage, configSet or deleteKeys is required";
  }

  if (params.contains("info") && !params["info"].is_null()) {
    out->operation = Operation::kInfo;
    const json& info = params["info"];
    if (!info.is_object()) return "redis.info: not an object";
    if (info.contains("section")) {
      if (!info["section"].is_string()) return "redis.info.section: not a string";
      out->section = info["section"].get<std::string>();
    }
    if (!isOneOf(out->section, infoSections())) {
      return "redis.info.section: " + inQuotes(out->section) + " is not one of " +
             joined(infoSections());
    }
    return std::nullopt;
  }

  if (params.contains("slowlog") && !params["slowlog"].is_null()) {
    out->operation = Operation::kSlowlog;
    const json& slowlog = params["slowlog"];
    if (!slowlog.is_object()) return "redis.slowlog: not an object";
    return readCount(slowlog, "count", "redis.slowlog.count", kMaxSlowlogCount, &out->count);
  }

  if (params.contains("memoryUsage") && !params["memoryUsage"].is_null()) {
    out->operation = Operation::kMemoryUsage;
    const json& usage = params["memoryUsage"];
    if (!usage.is_object()) return "redis.memoryUsage: not an object";
    if (!usage.contains("pattern") || !usage["pattern"].is_string() ||
        usage["pattern"].get<std::string>().empty()) {
      return "redis.memoryUsage.pattern: required, a glob such as \"session:*\"";
    }
    out->pattern = usage["pattern"].get<std::string>();
    if (out->pattern.size() > kMaxPatternLength) {
      return "redis.memoryUsage.pattern: longer than " + std::to_string(kMaxPatternLength) +
             " characters";
    }
    return readCount(usage, "maxKeys", "redis.memoryUsage.maxKeys", kMaxMaxKeys, &out->maxKeys);
  }

  if (params.contains("configSet") && !params["configSet"].is_null()) {
    out->operation = Operation::kConfigSet;
    const json& set = params["configSet"];
    if (!set.is_object()) return "redis.configSet: not an object";
    if (!set.contains("parameter") || !set["parameter"].is_string()) {
      return "redis.configSet.parameter: required (one of " + joined(configParameters()) + ")";
    }
    out->parameter = set["parameter"].get<std::string>();
    if (!isOneOf(out->parameter, configParameters())) {
      return "redis.configSet.parameter: " + inQuotes(out->parameter) +
             " is not allowed; allowed: " + joined(configParameters());
    }
    const json value = set.value("value", json());
    if (value.is_string()) {
      out->value = value.get<std::string>();
    } else if (value.is_number_integer()) {
      out->value = value.dump();
    } else {
      return "redis.configSet.value: required, a string such as \"2gb\"";
    }
    if (out->value.empty() || out->value.size() > kMaxConfigValueLength) {
      return "redis.configSet.value: must be 1 to " + std::to_string(kMaxConfigValueLength) +
             " characters";
    }
    return std::nullopt;
  }

  out->operation = Operation::kDeleteKeys;
  const json& del = params["deleteKeys"];
  if (!del.is_object()) return "redis.deleteKeys: not an object";
  if (!del.contains("pattern") || !del["pattern"].is_string() ||
      del["pattern"].get<std::string>().empty()) {
    return "redis.deleteKeys.pattern: required, a glob such as \"cache:*\"";
  }
  out->pattern = del["pattern"].get<std::string>();
  if (out->pattern.size() > kMaxPatternLength) {
    return "redis.deleteKeys.pattern: longer than " + std::to_string(kMaxPatternLength) +
           " characters";
  }
  // "?*", "[a-z]*" and every other spelling without a literal character
  // match every key just as "*" does.
  if (api::redisPatternMatchesEverything(out->pattern)) {
    return "redis.deleteKeys.pattern: " + inQuotes(out->pattern) +
           " matches every key and is refused; name a prefix such as \"cache:*\"";
  }
  return readCount(del, "maxCount", "redis.deleteKeys.maxCount", kMaxMaxCount, &out->maxCount);
}

// ---- the connection ----

struct Failure {
  bool retriable = false;
  std::string message;
};

ActionOutcome toOutcome(const Failure& f) {
  return f.retriable ? ActionOutcome::retriable(f.message) : ActionOutcome::permanent(f.message);
}

using Reply = redis::Reply;
using ReplyType = redis::Reply::Type;

// ---- hiredis ----

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};

Reply fromHiredis(const redisReply* r) {
  Reply out;
  if (r == nullptr) return out;
  auto text = [r] { return r->str != nullptr ? std::string(r->str, r->len) : std::string(); };
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = ReplyType::kString;
      out.text = text();
      break;
    case REDIS_REPLY_STATUS:
      out.type = ReplyType::kStatus;
      out.text = text();
      break;
    case REDIS_REPLY_ERROR:
      out.type = ReplyType::kError;
      out.text = text();
      break;
    case REDIS_REPLY_INTEGER:
      out.type = ReplyType::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = ReplyType::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(fromHiredis(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

class HiredisConnection : public redis::Connection {
 public:
  explicit HiredisConnection(std::unique_ptr<redisContext, ContextFree> context)
      : context_(std::move(context)) {}

  bool command(const std::vector<std::string>& args, milliseconds timeout, Reply* reply,
               std::string* error) override {
    if (context_->err) {
      *error = transportError();
      return false;
    }
    redisSetTimeout(context_.get(), toTimeval(timeout));
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    void* raw = redisCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(),
                                 lengths.data());
    if (raw == nullptr) {
      *error = transportError();
      return false;
    }
    std::unique_ptr<redisReply, ReplyFree> r(static_cast<redisReply*>(raw));
    *reply = fromHiredis(r.get());
    return true;
  }

 private:
  std::string transportError() const {
    std::string text = context_->errstr;
    if (text == kSocketTimedOut) return "timed out";
    return text.empty() ? "connection failed" : text;
  }

  std::unique_ptr<redisContext, ContextFree> context_;
};

class HiredisConnector : public redis::Connector {
 public:
  std::unique_ptr<redis::Connection> connect(const std::string& host, int port,
                                             milliseconds timeout, std::string* error) override {
    std::unique_ptr<redisContext, ContextFree> context(
        redisConnectWithTimeout(host.c_str(), port, toTimeval(timeout)));
    if (!context) {
      *error = "out of memory";
      return nullptr;
    }
    if (context->err) {
      std::string text = context->errstr;
      *error = text == kSocketTimedOut ? "timed out" : text.empty() ? "connection failed" : text;
      return nullptr;
    }
    return std::make_unique<HiredisConnection>(std::move(context));
  }
};

const std::string& replyText(const Reply& r) { return r.text; }

// Error replies that a later attempt may not get: the server is loading its
// data, busy in a script, or its primary is down.
bool isRetriableError(const std::string& text) {
  for (const char* prefix : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (text.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// One connection for one call of the action: reads the URL from the Secret,
// connects, authenticates, selects the database, runs commands. Every
// timeout is cut short by the step's deadline. Messages name the server as
// host:port and have the password scrubbed from anything the server or
// hiredis said.
class Session {
 public:
  Session(const RedisActionOptions& options, redis::Connector& connector,
          const ActionContext& context)
      : options_(options), connector_(connector), context_(context), started_(SteadyClock::now()) {}

  std::optional<Failure> open(const json& params) {
    const json connection = params.value("connection", json());
    if (!connection.is_object() || !connection.contains("secretKeyRef")) {
      return Failure{false, std::string(kUrlField) + ": required"};
    }
    if (context_.client == nullptr) {
      return Failure{false, "redis: no Kubernetes client to read the connection Secret with"};
    }
    const json& ref = connection["secretKeyRef"];
    auto secret = readSecretKey(*context_.client, context_.defaultNamespace, ref, kUrlField);
    if (!secret.ok()) return Failure{secret.retriable, secret.error};
    std::string problem;
    auto url = parseRedisUrl(secret.value, &problem);
    if (!url) {
      return Failure{false, std::string(kUrlField) + ": Secret " + context_.defaultNamespace + "/" +
                                ref.value("name", "") + " key \"" + ref.value("key", "") +
                                "\": " + problem + " (expected " + kUrlForm + ")"};
    }
    password_ = url->password;
    endpoint_ = url->endpoint();

    std::string error;
    redis_ = connector_.connect(url->host, url->port, timeout(options_.connectTimeout), &error);
    if (!redis_) return fail(true, "cannot connect", error);

    Reply reply;
    if (!url->password.empty()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!url->user.empty()) auth.push_back(url->user);
      auth.push_back(url->password);
      if (auto f = command("AUTH", auth, &reply)) {
        // A wrong password will not get better on a retry.
        f->retriable = f->retriable && broken_;
        return f;
      }
    }
    if (url->db != 0) {
      std::string db = std::to_string(url->db);
      if (auto f = command("SELECT " + db, {"SELECT", db}, &reply)) return f;
    }
    return std::nullopt;
  }

  // Runs one command. `what` names it in messages (never its arguments:
  // AUTH's are secret). An error reply is a Failure.
  std::optional<Failure> command(const std::string& what, const std::vector<std::string>& args,
                                 Reply* reply) {
    if (!redis_) return fail(true, what, "not connected");
    if (broken_) return fail(true, what, brokenBy_);
    Reply r;
    std::string error;
    if (!redis_->command(args, timeout(options_.commandTimeout), &r, &error)) {
      broken_ = true;
      brokenBy_ = error;
      return fail(true, what, error);
    }
    if (r.type == ReplyType::kError) return fail(isRetriableError(r.text), what, r.text);
    *reply = std::move(r);
    return std::nullopt;
  }

  std::optional<Failure> configGet(const std::string& parameter, std::string* value) {
    Reply r;
    std::string what = "CONFIG GET " + parameter;
    if (auto f = command(what, {"CONFIG", "GET", parameter}, &r)) return f;
    if (r.type == ReplyType::kArray) {
      for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        if (replyText(r.elements[i]) == parameter) {
          *value = clean(replyText(r.elements[i + 1]), kMaxConfigValueLength);
          return std::nullopt;
        }
      }
    }
    return fail(false, what, "the server does not report this parameter");
  }

  std::string describe() const { return "redis " + endpoint_; }
  // The URL's password, which outputs quoting the server's data redact.
  const std::string& password() const { return password_; }

  // Time left before the step's deadline, on the engine's clock (its `now`
  // plus the time this call has taken); `fallback` when there is none.
  milliseconds timeLeft(milliseconds fallback) const {
    if (context_.deadline == kube::WallTime{}) return fallback;
    auto now = context_.now +
               std::chrono::duration_cast<kube::WallTime::duration>(SteadyClock::now() - started_);
    return std::chrono::duration_cast<milliseconds>(context_.deadline - now);
  }

 private:
  milliseconds timeout(milliseconds option) const {
    return std::min(option, std::max(kMinTimeout, timeLeft(option)));
  }

  Failure fail(bool retriable, const std::string& what, const std::string& detail) const {
    std::string text = detail;
    if (!password_.empty()) {
      for (size_t at = text.find(password_); at != std::string::npos;
           at = text.find(password_, at)) {
        text.replace(at, password_.size(), "[redacted]");
        at += 10;
      }
    }
    return Failure{retriable, describe() + ": " + what + ": " + clean(text, kMaxErrorLength)};
  }

  const RedisActionOptions& options_;
  redis::Connector& connector_;
  const ActionContext& context_;
  SteadyClock::time_point started_;
  std::string endpoint_;
  std::string password_;
  std::unique_ptr<redis::Connection> redis_;
  // The connection failed: every later command fails as it did.
  bool broken_ = false;
  std::string brokenBy_;
};

// Text from the server (a slowlog argument, a key name) for an output:
// every secret redacted, then cut to `limit` printable characters. Text that
// was cut (here or by Redis, which cuts arguments at 128 bytes) and still
// holds the first characters of a secret is redacted whole, so no prefix of
// a secret is shown either.
std::string quoted(const std::string& text, size_t limit, const std::vector<std::string>& secrets) {
  std::string redacted = redactSecrets(text, secrets);
  std::string out = clean(redacted, limit);
  bool cut = redacted.size() > limit || text.find(" more bytes)") != std::string::npos;
  if (cut) {
    for (const auto& secret : secrets) {
      std::string head = secret.substr(0, 8);
      if (head.size() >= 4 && out.find(head) != std::string::npos) return kRedacted;
    }
  }
  return out;
}

// One SLOWLOG GET entry as Redis 4 and later reply: id, Unix time, duration
// in microseconds, the arguments, then the client's address and name.
struct SlowlogEntry {
  long long id = 0;
  long long time = 0;
  long long micros = 0;
  std::string command;  // the command's name, upper case
  std::string line;     // everything, bounded and redacted
};

std::optional<SlowlogEntry> slowlogEntry(const Reply& r, const std::vector<std::string>& secrets) {
  if (r.type != ReplyType::kArray || r.elements.size() < 4) return std::nullopt;
  for (size_t i = 0; i < 3; ++i) {
    if (r.elements[i].type != ReplyType::kInteger) return std::nullopt;
  }
  const Reply& args = r.elements[3];
  if (args.type != ReplyType::kArray) return std::nullopt;
  SlowlogEntry e;
  e.id = r.elements[0].integer;
  e.time = r.elements[1].integer;
  e.micros = r.elements[2].integer;
  if (!args.elements.empty()) {
    e.command = clean(args.elements[0].text, 32);
    std::transform(e.command.begin(), e.command.end(), e.command.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  std::string command = e.command;
  size_t shown = std::min(args.elements.size(), kSlowlogArgs + 1);
  for (size_t i = 1; i < shown; ++i) {
    command += " " + quoted(args.elements[i].text, kSlowlogArgLength, secrets);
  }
  if (args.elements.size() > shown) {
    command += " ... (" + std::to_string(args.elements.size() - shown) + " more arguments)";
  }
  std::time_t unix = static_cast<std::time_t>(e.time);
  e.line = std::to_string(e.id) + " " +
           kube::formatRfc3339(std::chrono::system_clock::from_time_t(unix)) + " " +
           std::to_string(e.micros) + "us " + command;
  std::string client;
  if (r.elements.size() >= 5 && !r.elements[4].text.empty()) {
    client = quoted(r.elements[4].text, kSlowlogClientLength, secrets);
  }
  if (r.elements.size() >= 6 && !r.elements[5].text.empty()) {
    client += (client.empty() ? "" : " ") +
              ("name " + quoted(r.elements[5].text, kSlowlogClientLength, secrets));
  }
  if (!client.empty()) e.line += " (client " + client + ")";
  return e;
}

long long baselineNumber(const Outputs& baseline, const char* key) {
  auto it = baseline.find(key);
  if (it == baseline.end() || !allDigits(it->second) || it->second.size() > 18) return 0;
  return std::stoll(it->second);
}

// ---- the action ----

class RedisAction : public Action {
 public:
  explicit RedisAction(RedisActionOptions options)
      : options_(std::move(options)),
        connector_(options_.connector ? options_.connector : redis::hiredisConnector()) {}

  std::string field() const override { return "redis"; }

  ActionOutcome prepare(const json& params, const ActionContext& context) override {
    RedisParams p;
    if (auto problem = parseParams(params, &p)) return ActionOutcome::permanent(*problem);
    if (p.operation != Operation::kConfigSet) return ActionOutcome::succeeded("");
    Session session(options_, *connector_, context);
    if (auto f = session.open(params)) return toOutcome(*f);
    std::string previous;
    if (auto f = session.configGet(p.parameter, &previous)) return toOutcome(*f);
    return ActionOutcome::succeeded("", {{"previousValue", previous}});
  }

  ActionOutcome run(const json& params, const ActionContext& context) override {
    RedisParams p;
    if (auto problem = parseParams(params, &p)) return ActionOutcome::permanent(*problem);
    Session session(options_, *connector_, context);
    if (auto f = session.open(params)) return toOutcome(*f);
    switch (p.operation) {
      case Operation::kInfo:
        return info(session, p);
      case Operation::kSlowlog:
        return slowlog(session, p, context);
      case Operation::kMemoryUsage:
        return memoryUsage(session, p, context);
      case Operation::kConfigSet:
        return configSet(session, p, context);
      case Operation::kDeleteKeys:
        return deleteKeys(session, p, context);
    }
    return ActionOutcome::permanent("redis: unknown operation");
  }

  RevertOutcome revert(const json& params, const json& changedFrom, const json& changedTo,
                       const ActionContext& context) override {
    auto text = [](const json& change, const char* key) {
      return change.is_object() && change.contains(key) && change[key].is_string()
                 ? change[key].get<std::string>()
                 : std::string();
    };
    std::string parameter = text(changedTo, "parameter");
    std::string from = text(changedFrom, "value");
    std::string to = text(changedTo, "value");
    if (!isOneOf(parameter, configParameters()) || text(changedFrom, "parameter") != parameter ||
        from.empty() || to.empty()) {
      return {RevertKind::kFailed,
              "redis: only a configSet change of an allowed parameter can be reverted; the "
              "recorded change is not one"};
    }
    Session session(options_, *connector_, context);
    auto failed = [](const Failure& f) {
      return RevertOutcome{f.retriable ? RevertKind::kRetriableFailure : RevertKind::kFailed,
                           f.message};
    };
    if (auto f = session.open(params)) return failed(*f);
    std::string live;
    if (auto f = session.configGet(parameter, &live)) return failed(*f);
    std::string where = session.describe() + ": " + parameter;
    if (live == from) return {RevertKind::kReverted, where + " is already " + from};
    if (live != to) {
      return {RevertKind::kRefused, where + " changed since Remedy set it (from " + to + " to " +
                                        live + ") and was left alone"};
    }
    if (context.dryRun) {
      return {RevertKind::kReverted,
              "dry run: would restore " + where + " from " + to + " to " + from};
    }
    Reply reply;
    if (auto f = session.command("CONFIG SET " + parameter, {"CONFIG", "SET", parameter, from},
                                 &reply)) {
      return failed(*f);
    }
    return {RevertKind::kReverted, "restored " + where + " from " + to + " to " + from};
  }

 private:
  ActionOutcome info(Session& session, const RedisParams& p) {
    Reply reply;
    std::string what = "INFO " + p.section;
    if (auto f = session.command(what, {"INFO", p.section}, &reply)) return toOutcome(*f);
    std::string text = replyText(reply);
    Outputs outputs;
    Outputs wanted;  // the fields the summary uses, whatever the bound kept
    size_t total = 0;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      start = end + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (line.empty() || line[0] == '#' || colon == std::string::npos || colon == 0) continue;
      std::string key = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      ++total;
      for (const char* name :
           {"used_memory_human", "evicted_keys", "keyspace_hits", "keyspace_misses"}) {
        if (key == name) wanted[key] = clean(value, 32);
      }
      if (outputs.size() < options_.maxInfoFields && key.size() <= kMaxInfoKeyLength) {
        outputs[clean(key, kMaxInfoKeyLength)] = clean(value, options_.maxValueLength);
      }
    }

    std::string message =
        session.describe() + ": " + what + ": " + std::to_string(total) + " fields";
    if (outputs.size() < total) {
      message += " (the first " + std::to_string(outputs.size()) + " kept as outputs)";
    }
    std::vector<std::string> summary;
    if (wanted.count("used_memory_human")) {
      summary.push_back("used_memory_human " + wanted["used_memory_human"]);
    }
    if (wanted.count("evicted_keys")) summary.push_back("evicted_keys " + wanted["evicted_keys"]);
    if (wanted.count("keyspace_hits") && wanted.count("keyspace_misses")) {
      double hits = std::strtod(wanted["keyspace_hits"].c_str(), nullptr);
      double misses = std::strtod(wanted["keyspace_misses"].c_str(), nullptr);
      if (hits + misses > 0) {
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%.4f", hits / (hits + misses));
        outputs["hit_rate"] = ratio;
        char percent[32];
        std::snprintf(percent, sizeof percent, "%.1f%%", 100 * hits / (hits + misses));
        summary.push_back(std::string("hit rate ") + percent);
      } else {
        summary.push_back("no keyspace lookups yet");
      }
    }
    if (!summary.empty()) message += "; " + joined(summary);
    return ActionOutcome::succeeded(message, outputs);
  }

  // The secret values of the Incident (pod_logs_action.h) and the URL's
  // password, which outputs quoting the server's data must not show.
  static std::optional<ActionOutcome> secretsToRedact(const Session& session,
                                                      const ActionContext& context,
                                                      const std::string& field,
                                                      std::vector<std::string>* secrets) {
    auto read = incidentSecrets(context);
    if (!read.ok()) return ActionOutcome::retriable(field + ": " + read.status().message());
    *secrets = *read;
    if (!session.password().empty()) addSecret(session.password(), secrets);
    return std::nullopt;
  }

  // SLOWLOG GET count: the newest entries first, as Redis keeps them. What
  // an entry shows is bounded (slowlogEntry); the secrets the Incident read
  // and the URL's password are redacted from every argument.
  ActionOutcome slowlog(Session& session, const RedisParams& p, const ActionContext& context) {
    std::vector<std::string> redact;
    if (auto refused = secretsToRedact(session, context, "redis.slowlog", &redact)) {
      return *refused;
    }
    std::string count = std::to_string(p.count);
    std::string what = "SLOWLOG GET " + count;
    Reply reply;
    if (auto f = session.command(what, {"SLOWLOG", "GET", count}, &reply)) return toOutcome(*f);
    if (reply.type != ReplyType::kArray) {
      return toOutcome(Failure{false, session.describe() + ": " + what + ": unexpected reply"});
    }
    std::vector<SlowlogEntry> entries;
    for (const Reply& r : reply.elements) {
      if (entries.size() >= static_cast<size_t>(p.count)) break;
      auto entry = slowlogEntry(r, redact);
      if (!entry) {
        return toOutcome(
            Failure{false, session.describe() + ": " + what + ": unexpected reply (an entry)"});
      }
      entries.push_back(std::move(*entry));
    }
    Outputs outputs = {{"count", std::to_string(entries.size())}};
    const SlowlogEntry* slowest = nullptr;
    std::string table;
    size_t listed = 0;
    for (const auto& e : entries) {
      if (slowest == nullptr || e.micros > slowest->micros) slowest = &e;
      if (table.size() + e.line.size() + 1 > kMaxEntriesBytes - 40) continue;
      table += e.line + "\n";
      ++listed;
    }
    if (listed < entries.size()) {
      table += "... and " + std::to_string(entries.size() - listed) + " more entries\n";
    }
    outputs["entries"] = table;
    outputs["slowestMicroseconds"] = slowest ? std::to_string(slowest->micros) : "0";
    std::string message = session.describe() + ": " + what + ": " + std::to_string(entries.size()) +
                          (entries.size() == 1 ? " entry" : " entries");
    if (slowest != nullptr) {
      outputs["slowestCommand"] = slowest->command;
      char ms[32];
      std::snprintf(ms, sizeof ms, "%.1f ms", static_cast<double>(slowest->micros) / 1000.0);
      message += ", the slowest " + std::string(ms) + " (" + slowest->command + ")";
    }
    return ActionOutcome::succeeded(message, outputs);
  }

  // SCAN MATCH pattern, and MEMORY USAGE of each key found, until the scan
  // is complete, maxKeys keys are measured, kMaxScanCalls SCANs are made or
  // the time is up (workPerCall, cut short by the step's deadline). Reads
  // only, so it runs in dry runs too; an incomplete scan still succeeds,
  // with `complete` false.
  ActionOutcome memoryUsage(Session& session, const RedisParams& p, const ActionContext& context) {
    std::vector<std::string> secrets;
    if (auto refused = secretsToRedact(session, context, "redis.memoryUsage", &secrets)) {
      return *refused;
    }
    auto budget = std::min(options_.workPerCall, session.timeLeft(options_.workPerCall));
    auto stopAt = SteadyClock::now() + budget;
    std::string cursor = "0";
    long long scans = 0;
    long long keys = 0;
    long long total = 0;
    bool complete = false;
    std::string stoppedBy;
    std::vector<std::pair<long long, std::string>> top;
    while (stoppedBy.empty()) {
      if (scans >= kMaxScanCalls) {
        stoppedBy = std::to_string(kMaxScanCalls) + " SCAN calls";
        break;
      }
      if (scans > 0 && SteadyClock::now() >= stopAt) {
        stoppedBy = "the time limit";
        break;
      }
      Reply scan;
      ++scans;
      if (auto f = session.command(
              "SCAN", {"SCAN", cursor, "MATCH", p.pattern, "COUNT", kScanCount}, &scan)) {
        return toOutcome(*f);
      }
      if (scan.type != ReplyType::kArray || scan.elements.size() != 2 ||
          scan.elements[1].type != ReplyType::kArray || !allDigits(replyText(scan.elements[0]))) {
        return toOutcome(Failure{false, session.describe() + ": SCAN: unexpected reply"});
      }
      for (const Reply& key : scan.elements[1].elements) {
        if (keys >= p.maxKeys) {
          stoppedBy = "maxKeys " + std::to_string(p.maxKeys);
          break;
        }
        if (keys > 0 && SteadyClock::now() >= stopAt) {
          stoppedBy = "the time limit";
          break;
        }
        Reply usage;
        if (auto f = session.command("MEMORY USAGE",
                                     {"MEMORY", "USAGE", replyText(key), "SAMPLES", "5"}, &usage)) {
          return toOutcome(*f);
        }
        // Nil: the key expired or was deleted since SCAN returned it.
        if (usage.type != ReplyType::kInteger) continue;
        ++keys;
        total += usage.integer;
        top.emplace_back(usage.integer, replyText(key));
        std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        if (top.size() > kTopKeys) top.pop_back();
      }
      if (!stoppedBy.empty()) break;
      cursor = replyText(scan.elements[0]);
      if (cursor == "0") {
        complete = true;
        break;
      }
      if (keys >= p.maxKeys) stoppedBy = "maxKeys " + std::to_string(p.maxKeys);
    }

    Outputs outputs = {{"totalBytes", std::to_string(total)},
                       {"keys", std::to_string(keys)},
                       {"complete", complete ? "true" : "false"}};
    std::string list;
    for (const auto& [bytes, name] : top) {
      list += std::to_string(bytes) + " " + quoted(name, kKeyNameLength, secrets) + "\n";
    }
    outputs["top"] = list;
    if (!top.empty()) {
      outputs["largestKey"] = quoted(top.front().second, kKeyNameLength, secrets);
      outputs["largestBytes"] = std::to_string(top.front().first);
    }
    std::string message = session.describe() + ": " + std::to_string(keys) +
                          (keys == 1 ? " key" : " keys") + " matching " + inQuotes(p.pattern) +
                          " use " + std::to_string(total) + " bytes";
    if (!top.empty()) {
      message += "; the largest " + outputs["largestKey"] + " (" + outputs["largestBytes"] + ")";
    }
    if (!complete) message += "; the scan stopped at " + stoppedBy + ", more keys may match";
    return ActionOutcome::succeeded(message, outputs);
  }

  ActionOutcome configSet(Session& session, const RedisParams& p, const ActionContext& context) {
    std::string current;
    if (auto f = session.configGet(p.parameter, &current)) return toOutcome(*f);
    // The value before the first attempt, as prepare() recorded it: after a
    // crash between the set and the status write, `current` is already ours.
    auto recorded = context.baseline.find("previousValue");
    std::string previous = recorded != context.baseline.end() ? recorded->second : current;
    std::string where = session.describe() + ": " + p.parameter;
    if (context.dryRun) {
      return ActionOutcome::succeeded(
          "dry run: would set " + where + " from " + current + " to " + p.value,
          {{"previousValue", previous}, {"value", p.value}});
    }
    Reply reply;
    if (auto f = session.command("CONFIG SET " + p.parameter,
                                 {"CONFIG", "SET", p.parameter, p.value}, &reply)) {
      return toOutcome(*f);
    }
    // The value as the server keeps it ("2gb" reads back as 2147483648):
    // what revert() compares the live value with.
    std::string value;
    if (auto f = session.configGet(p.parameter, &value)) return toOutcome(*f);
    Outputs outputs = {{"previousValue", previous}, {"value", value}};
    if (value == previous) {
      return ActionOutcome::succeeded(where + " is already " + value, outputs);
    }
    std::string message = "set " + where + " from " + previous + " to " + value;
    if (value != p.value) message += " (asked for " + clean(p.value, 64) + ")";
    auto outcome = ActionOutcome::succeeded(message, outputs);
    outcome.changedFrom = {{"parameter", p.parameter}, {"value", previous}};
    outcome.changedTo = {{"parameter", p.parameter}, {"value", value}};
    return outcome;
  }

  // SCAN (never KEYS) from the recorded cursor, UNLINK in batches, until the
  // scan is complete, maxCount keys are deleted (or, in a dry run, found), or
  // this call's time is up; then it reports progress and the engine calls
  // again. Every call does at least one SCAN, so the step always advances.
  ActionOutcome deleteKeys(Session& session, const RedisParams& p, const ActionContext& context) {
    long long matched = 0;
    long long deleted = 0;
    std::string cursor = "0";
    auto recorded = context.baseline.find("scanCursor");
    if (recorded != context.baseline.end() && allDigits(recorded->second)) {
      cursor = recorded->second;
      matched = baselineNumber(context.baseline, "matched");
      deleted = baselineNumber(context.baseline, "deleted");
    }
    const long long matchedBefore = matched;
    const long long deletedBefore = deleted;
    const bool dryRun = context.dryRun;
    auto reachedMax = [&] { return (dryRun ? matched : deleted) >= p.maxCount; };
    auto budget = std::min(options_.workPerCall, session.timeLeft(options_.workPerCall));
    auto stopAt = SteadyClock::now() + budget;

    bool complete = false;
    std::optional<Failure> error;
    bool first = true;
    while (!reachedMax() && (first || SteadyClock::now() < stopAt)) {
      first = false;
      Reply scan;
      if ((error = session.command(
               "SCAN", {"SCAN", cursor, "MATCH", p.pattern, "COUNT", kScanCount}, &scan))) {
        break;
      }
      if (scan.type != ReplyType::kArray || scan.elements.size() != 2 ||
          scan.elements[1].type != ReplyType::kArray || !allDigits(replyText(scan.elements[0]))) {
        error = Failure{false, session.describe() + ": SCAN: unexpected reply"};
        break;
      }
      std::string next = replyText(scan.elements[0]);
      const std::vector<Reply>& keys = scan.elements[1].elements;
      size_t i = 0;
      while (!dryRun && i < keys.size() && deleted < p.maxCount) {
        size_t n =
            std::min({kUnlinkBatch, keys.size() - i, static_cast<size_t>(p.maxCount - deleted)});
        std::vector<std::string> args = {"UNLINK"};
        for (size_t k = i; k < i + n; ++k) args.push_back(replyText(keys[k]));
        Reply unlinked;
        if ((error = session.command("UNLINK", args, &unlinked))) break;
        if (unlinked.type == ReplyType::kInteger) deleted += unlinked.integer;
        i += n;
      }
      if (error) break;
      matched += static_cast<long long>(keys.size());
      cursor = next;
      if (cursor == "0") {
        complete = true;
        break;
      }
    }

    Outputs outputs = {{"matched", std::to_string(matched)}, {"deleted", std::to_string(deleted)}};
    std::string what = "keys matching " + inQuotes(p.pattern) + " on " + session.describe();
    std::string done = dryRun ? "dry run: would delete " +
                                    std::to_string(std::min(matched, p.maxCount)) + " " + what
                              : "deleted " + std::to_string(deleted) + " " + what;
    done += " (" + std::to_string(matched) + " found)";
    if (error) {
      if (!error->retriable || (matched == matchedBefore && deleted == deletedBefore)) {
        error->message += "; " + done;
        return toOutcome(*error);
      }
      // Work was done: keep its count (the next call continues the scan).
      outputs["scanCursor"] = cursor;
      auto outcome =
          ActionOutcome::inProgress(done + " so far; " + error->message, kReconnectAfter);
      outcome.outputs = outputs;
      return outcome;
    }
    if (complete || reachedMax()) {
      if (!complete) {
        done += "; stopped at maxCount " + std::to_string(p.maxCount) + ", more keys may match";
      } else if (matched > p.maxCount) {
        done += "; stopped at maxCount " + std::to_string(p.maxCount) +
                ", the other matching keys were left";
      }
      return ActionOutcome::succeeded(done, outputs);
    }
    outputs["scanCursor"] = cursor;
    bool atDeadline = session.timeLeft(options_.workPerCall) <= milliseconds(0);
    auto outcome = ActionOutcome::inProgress(
        done + " so far; " +
            (atDeadline ? "reached the step's deadline, a retry continues the scan"
                        : "the scan continues"),
        kContinueAfter);
    outcome.outputs = outputs;
    return outcome;
  }

  RedisActionOptions options_;
  std::shared_ptr<redis::Connector> connector_;
};

}  // namespace

std::unique_ptr<Action> makeRedisAction(RedisActionOptions options) {
  return std::make_unique<RedisAction>(std::move(options));
}

std::shared_ptr<redis::Connector> redis::hiredisConnector() {
  return std::make_shared<HiredisConnector>();
}

}  // namespace remedy::actions
