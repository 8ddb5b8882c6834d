// A real redis-server for a test: on a free loopback port, no persistence,
// optionally with a password, run as user `redis` when the tests run as root.
// The constructor returns once the server answers PING; the destructor stops
// it. command() is the test's own client (hiredis), for setting up data and
// checking from outside what an action did.
#pragma once

#include <pwd.h>

#include <string>

#include "child_process.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace remedy::testing {

struct RedisServerOptions {
  std::string password;  // --requirepass when not empty
  std::string binary = "/usr/bin/redis-server";
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {})
      : options_(std::move(options)), dir_("remedy-redis", unprivilegedUser("redis")) {
    port_ = freeLoopbackPort();
    ProcessOptions p;
    p.argv = {options_.binary,
              "--port",
              std::to_string(port_),
              "--bind",
              "127.0.0.1",
              "--save",
              "",
              "--appendonly",
              "no",
              "--dir",
              dir_.path(),
              "--daemonize",
              "no",
              "--logfile",
              ""};
    if (!options_.password.empty()) {
      p.argv.push_back("--requirepass");
      p.argv.push_back(options_.password);
    }
    p.user = unprivilegedUser("redis");
    p.logPath = dir_.path() + "/redis.log";
    process_.start(p);
    bool up = waitUntil([&] {
      if (!process_.running()) return false;
      return command({"PING"}) == "PONG";
    });
    if (!up) throw std::runtime_error("redis-server did not answer PING: " + process_.log());
  }

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  // redis://[:password@]127.0.0.1:port[/db] with the server's password.
  std::string url(int db = 0) const {
    std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
    return "redis://" + auth + endpoint() + (db == 0 ? "" : "/" + std::to_string(db));
  }
  std::string log() const { return process_.log(); }

  // Runs a command (on database `db`) and returns the reply as text: a
  // string or status as is, an integer in decimal, nil as "(nil)", an error
  // as "(error) ...", an array as its elements joined by '\n'; "(io) ..." when
  // the server cannot be reached.
  std::string command(const std::vector<std::string>& args, int db = 0) {
    if (!connection_ || connection_->err) connect();
    if (connection_->err) return std::string("(io) ") + connection_->errstr;
    if (db != db_) {
      std::string selected = send({"SELECT", std::to_string(db)});
      if (selected != "OK") return selected;
      db_ = db;
    }
    return send(args);
  }

  std::string configGet(const std::string& parameter) {
    std::string reply = command({"CONFIG", "GET", parameter});
    size_t newline = reply.find('\n');
    return newline == std::string::npos ? "" : reply.substr(newline + 1);
  }

  // Sets `count` keys named prefix0, prefix1, ... in one MSET.
  void fill(const std::string& prefix, int count, int db = 0) {
    std::vector<std::string> args = {"MSET"};
    for (int i = 0; i < count; ++i) {
      args.push_back(prefix + std::to_string(i));
      args.push_back("v");
    }
    std::string reply = command(args, db);
    if (reply != "OK") throw std::runtime_error("MSET: " + reply);
  }

  long long countKeys(const std::string& pattern, int db = 0) {
    // KEYS is fine for a test's small keyspace (the action itself never uses it).
    std::string reply = command({"KEYS", pattern}, db);
    if (reply.empty()) return 0;
    long long n = 1;
    for (char c : reply) n += c == '\n';
    return n;
  }

 private:
  struct ContextFree {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  struct ReplyFree {
    void operator()(redisReply* r) const { freeReplyObject(r); }
  };

  void connect() {
    timeval tv{2, 0};
    connection_.reset(redisConnectWithTimeout("127.0.0.1", port_, tv));
    db_ = 0;
    if (!connection_ || connection_->err) return;
    redisSetTimeout(connection_.get(), tv);
    if (!options_.password.empty()) send({"AUTH", options_.password});
  }

  std::string send(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(redisCommandArgv(
        connection_.get(), static_cast<int>(args.size()), argv.data(), lengths.data())));
    if (!reply) return std::string("(io) ") + connection_->errstr;
    return text(reply.get());
  }

  static std::string text(const redisReply* r) {
    switch (r->type) {
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      case REDIS_REPLY_NIL:
        return "(nil)";
      case REDIS_REPLY_ERROR:
        return "(error) " + std::string(r->str, r->len);
      case REDIS_REPLY_ARRAY: {
        std::string out;
        for (size_t i = 0; i < r->elements; ++i) out += (i ? "\n" : "") + text(r->element[i]);
        return out;
      }
      default:
        return std::string(r->str, r->len);
    }
  }

  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  ChildProcess process_;
  std::unique_ptr<redisContext, ContextFree> connection_;
  int db_ = 0;
};

}  // namespace remedy::testing
