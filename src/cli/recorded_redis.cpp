#include "cli/recorded_redis.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace remedy::cli {

namespace redis = actions::redis;
using ReplyType = redis::Reply::Type;

struct RecordedRedisServers::Server {
  RecordedRedis recorded;
  std::map<std::string, std::string> config;
  std::set<std::string> keys;
};

namespace {

bool match(const char* p, const char* pEnd, const char* s, const char* sEnd) {
  while (p < pEnd) {
    switch (*p) {
      case '*': {
        while (p + 1 < pEnd && p[1] == '*') ++p;
        if (p + 1 == pEnd) return true;
        for (const char* t = s; t <= sEnd; ++t) {
          if (match(p + 1, pEnd, t, sEnd)) return true;
        }
        return false;
      }
      case '?':
        if (s == sEnd) return false;
        ++s;
        break;
      case '[': {
        if (s == sEnd) return false;
        ++p;
        bool negate = p < pEnd && *p == '^';
        if (negate) ++p;
        bool found = false;
        while (p < pEnd && *p != ']') {
          if (*p == '\\' && p + 1 < pEnd) {
            ++p;
            if (*p == *s) found = true;
          } else if (p + 2 < pEnd && p[1] == '-' && p[2] != ']') {
            char lo = std::min(p[0], p[2]);
            char hi = std::max(p[0], p[2]);
            if (*s >= lo && *s <= hi) found = true;
            p += 2;
          } else if (*p == *s) {
            found = true;
          }
          ++p;
        }
        if (found == negate) return false;
        ++s;
        break;
      }
      case '\\':
        if (p + 1 < pEnd) ++p;
        [[fallthrough]];
      default:
        if (s == sEnd || *p != *s) return false;
        ++s;
        break;
    }
    ++p;
  }
  return s == sEnd;
}

redis::Reply status(std::string text) {
  redis::Reply r;
  r.type = ReplyType::kStatus;
  r.text = std::move(text);
  return r;
}
redis::Reply error(std::string text) {
  redis::Reply r;
  r.type = ReplyType::kError;
  r.text = std::move(text);
  return r;
}
redis::Reply bulk(std::string text) {
  redis::Reply r;
  r.type = ReplyType::kString;
  r.text = std::move(text);
  return r;
}
redis::Reply integer(long long n) {
  redis::Reply r;
  r.type = ReplyType::kInteger;
  r.integer = n;
  return r;
}
redis::Reply array(std::vector<redis::Reply> elements) {
  redis::Reply r;
  r.type = ReplyType::kArray;
  r.elements = std::move(elements);
  return r;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Redis's memory units for maxmemory: 1k = 1000, 1kb = 1024, and so on.
std::optional<std::string> memoryValue(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) return std::nullopt;
  long long n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, long long> units = {
      {"", 1},        {"b", 1},        {"k", 1000},         {"kb", 1024},
      {"m", 1000000}, {"mb", 1048576}, {"g", 1000000000LL}, {"gb", 1073741824LL}};
  auto it = units.find(unit);
  if (it == units.end()) return std::nullopt;
  return std::to_string(n * it->second);
}

class RecordedConnection : public redis::Connection {
 public:
  RecordedConnection(std::shared_ptr<RecordedRedisServers::Server> server,
                     std::shared_ptr<std::mutex> mu, const kube::Clock& clock,
                     kube::TimePoint start)
      : server_(std::move(server)), mu_(std::move(mu)), clock_(clock), start_(start) {}

  bool command(const std::vector<std::string>& args, std::chrono::milliseconds, redis::Reply* reply,
               std::string*) override {
    std::lock_guard<std::mutex> lock(*mu_);
    *reply = answer(args);
    return true;
  }

 private:
  redis::Reply answer(const std::vector<std::string>& args) {
    if (args.empty()) return error("ERR empty command");
    std::string name = upper(args[0]);
    const std::string& password = server_->recorded.password;
    if (name == "AUTH") {
      if (password.empty()) {
        return error(
            "ERR AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?");
      }
      if (args.back() != password || args.size() > 3 || args.size() < 2) {
        return error("WRONGPASS invalid username-password pair or user is disabled.");
      }
      authenticated_ = true;
      return status("OK");
    }
    if (!password.empty() && !authenticated_) return error("NOAUTH Authentication required.");
    if (name == "SELECT") return status("OK");
    if (name == "INFO") return info(args.size() > 1 ? args[1] : "default");
    if (name == "CONFIG" && args.size() >= 3 && upper(args[1]) == "GET") {
      auto it = server_->config.find(args[2]);
      if (it == server_->config.end()) return array({});
      return array({bulk(it->first), bulk(it->second)});
    }
    if (name == "CONFIG" && args.size() == 4 && upper(args[1]) == "SET") {
      auto it = server_->config.find(args[2]);
      if (it == server_->config.end()) {
        return error("ERR Unknown option or number of arguments for CONFIG SET - '" + args[2] +
                     "'");
      }
      std::string value = args[3];
      if (args[2] == "maxmemory") {
        auto bytes = memoryValue(value);
        if (!bytes) {
          return error(
              "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - "
              "argument must be a memory value");
        }
        value = *bytes;
      }
      it->second = value;
      return status("OK");
    }
    if (name == "SCAN" && args.size() >= 2) return scan(args);
    if (name == "UNLINK" || name == "DEL") {
      long long removed = 0;
      for (size_t i = 1; i < args.size(); ++i) removed += server_->keys.erase(args[i]) ? 1 : 0;
      return integer(removed);
    }
    if (name == "MEMORY" && args.size() >= 3 && upper(args[1]) == "USAGE") {
      if (!server_->keys.count(args[2])) return redis::Reply{};  // nil
      auto it = server_->recorded.keyBytes.find(args[2]);
      return integer(it != server_->recorded.keyBytes.end() ? it->second : kDefaultKeyBytes);
    }
    if (name == "SLOWLOG" && args.size() >= 2 && upper(args[1]) == "GET") return slowlog(args);
    if (name == "SLOWLOG" && args.size() == 2 && upper(args[1]) == "LEN") {
      return integer(static_cast<long long>(logged()));
    }
    return error("ERR unknown command '" + args[0] +
                 "' (the test's recorded Redis answers AUTH, SELECT, INFO, CONFIG GET, CONFIG "
                 "SET, SCAN, UNLINK, MEMORY USAGE, SLOWLOG GET and SLOWLOG LEN)");
  }

  // How many of the recorded entries are logged by now.
  size_t logged() const {
    auto elapsed = clock_.now() - start_;
    size_t n = 0;
    for (const auto& e : server_->recorded.slowlog) {
      if (e.at <= elapsed) ++n;
    }
    return n;
  }

  // SLOWLOG GET [count]: the newest `count` (default 10) entries first, each
  // [id, unix time, microseconds, [args], client, client name] as Redis 4
  // and later reply.
  redis::Reply slowlog(const std::vector<std::string>& args) const {
    long long count = 10;
    if (args.size() >= 3) {
      char* end = nullptr;
      count = std::strtoll(args[2].c_str(), &end, 10);
      if (args[2].empty() || *end != '\0') {
        return error("ERR value is out of range, must be positive");
      }
    }
    auto elapsed = clock_.now() - start_;
    auto wallStart =
        clock_.wallNow() - std::chrono::duration_cast<kube::WallTime::duration>(elapsed);
    std::vector<redis::Reply> entries;
    size_t n = logged();
    for (size_t i = n; i > 0 && (count < 0 || entries.size() < static_cast<size_t>(count)); --i) {
      const auto& e = server_->recorded.slowlog[i - 1];
      auto at = wallStart + std::chrono::duration_cast<kube::WallTime::duration>(e.at);
      std::vector<redis::Reply> command;
      for (const auto& a : e.command) command.push_back(bulk(a));
      entries.push_back(array(
          {integer(static_cast<long long>(i - 1)),
           integer(std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count()),
           integer(e.durationMicroseconds), array(std::move(command)), bulk(e.client),
           bulk(e.clientName)}));
    }
    return array(std::move(entries));
  }

  redis::Reply info(const std::string& section) const {
    std::string wanted = section;
    for (char& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool all = wanted == "all" || wanted == "everything" || wanted == "default";
    std::string text;
    for (const auto& [name, fields] : server_->recorded.info) {
      if (!all && name != wanted) continue;
      if (!text.empty()) text += "\r\n";
      std::string title = name;
      if (!title.empty()) title[0] = static_cast<char>(std::toupper(title[0]));
      text += "# " + title + "\r\n";
      for (const auto& [key, value] : fields) text += key + ":" + value + "\r\n";
    }
    return bulk(text);
  }

  // SCAN cursor [MATCH pattern] [COUNT n]: the cursor is a position in the
  // sorted keyspace, so keys deleted behind it do not move the rest.
  redis::Reply scan(const std::vector<std::string>& args) const {
    const std::string& cursorText = args[1];
    if (cursorText.empty() || cursorText.size() > 18 ||
        !std::all_of(cursorText.begin(), cursorText.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return error("ERR invalid cursor");
    }
    size_t cursor = std::stoull(cursorText);
    std::string pattern = "*";
    size_t count = 10;
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      std::string option = upper(args[i]);
      if (option == "MATCH") {
        pattern = args[i + 1];
      } else if (option == "COUNT") {
        count = std::max<size_t>(1, std::strtoull(args[i + 1].c_str(), nullptr, 10));
      } else {
        return error("ERR syntax error");
      }
    }
    // Positions are taken over the recorded keys, which never change
    // order; a deleted key is skipped.
    const auto& all = server_->recorded.keys;
    std::vector<redis::Reply> found;
    size_t at = cursor;
    size_t end = std::min(all.size(), cursor + count);
    for (; at < end; ++at) {
      if (server_->keys.count(all[at]) && redisGlobMatch(pattern, all[at])) {
        found.push_back(bulk(all[at]));
      }
    }
    std::string next = at >= all.size() ? "0" : std::to_string(at);
    return array({bulk(next), array(std::move(found))});
  }

  std::shared_ptr<RecordedRedisServers::Server> server_;
  std::shared_ptr<std::mutex> mu_;
  const kube::Clock& clock_;
  kube::TimePoint start_;
  bool authenticated_ = false;
};

}  // namespace

bool redisGlobMatch(const std::string& pattern, const std::string& text) {
  return match(pattern.data(), pattern.data() + pattern.size(), text.data(),
               text.data() + text.size());
}

RecordedRedisServers::RecordedRedisServers(const std::vector<RecordedRedis>& servers,
                                           const kube::Clock& clock, kube::TimePoint start)
    : clock_(clock), start_(start), mu_(std::make_shared<std::mutex>()) {
  for (const auto& s : servers) {
    auto server = std::make_shared<Server>();
    server->recorded = s;
    server->config = s.config;
    server->keys.insert(s.keys.begin(), s.keys.end());
    servers_.push_back(std::move(server));
  }
}

std::unique_ptr<redis::Connection> RecordedRedisServers::connect(const std::string& host, int,
                                                                 std::chrono::milliseconds,
                                                                 std::string* error) {
  std::shared_ptr<Server> chosen;
  for (const auto& s : servers_) {
    if (s->recorded.host == host) chosen = s;
    if (s->recorded.host.empty() && !chosen) chosen = s;
  }
  if (!chosen) {
    *error = "no recorded server for the host \"" + host + "\" in the test file (redis)";
    return nullptr;
  }
  if (!chosen->recorded.error.empty()) {
    *error = chosen->recorded.error;
    return nullptr;
  }
  return std::make_unique<RecordedConnection>(chosen, mu_, clock_, start_);
}

}  // namespace remedy::cli
