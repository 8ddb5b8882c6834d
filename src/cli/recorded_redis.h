// The Redis servers of a `remedyctl test` case (test_file.h,
// RecordedRedis): redis steps connect to them instead of a network server.
// They answer the commands the redis action sends (AUTH, SELECT, INFO,
// CONFIG GET and SET, SCAN with MATCH, UNLINK, MEMORY USAGE, SLOWLOG GET
// and LEN) as Redis does, over a keyspace that deleteKeys really empties;
// anything else is an unknown command. A SLOWLOG entry is logged at its
// `at` on the test's fake clock.
#pragma once

#include "actions/redis_connection.h"
#include "cli/test_file.h"
#include "kube/clock.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::cli {

// Redis's glob-style pattern (stringmatchlen): *, ?, [abc], [^a], [a-z], \x.
bool redisGlobMatch(const std::string& pattern, const std::string& text);

class RecordedRedisServers : public actions::redis::Connector {
 public:
  RecordedRedisServers(const std::vector<RecordedRedis>& servers, const kube::Clock& clock,
                       kube::TimePoint start);

  std::unique_ptr<actions::redis::Connection> connect(const std::string& host, int port,
                                                      std::chrono::milliseconds timeout,
                                                      std::string* error) override;

  struct Server;  // a recorded server as it is now

 private:
  const kube::Clock& clock_;
  kube::TimePoint start_;
  std::shared_ptr<std::mutex> mu_;  // guards every server's state
  std::vector<std::shared_ptr<Server>> servers_;
};

}  // namespace remedy::cli
