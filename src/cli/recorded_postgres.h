// The PostgreSQL servers of a `remedyctl test` case (test_file.h,
// RecordedPostgres): postgres steps connect to them instead of a network
// server. They keep the rules of actions::pg::Session: only client backends,
// superuser roles only when allowed, the oldest first, and a backend is
// signalled only while it is the one listed and still matches. Time is the
// test's fake clock, so a query's age grows as the test runs.
#pragma once

#include "actions/postgres_session.h"
#include "cli/test_file.h"
#include "kube/clock.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remedy::cli {

class RecordedPostgresServers : public actions::pg::Connector {
 public:
  RecordedPostgresServers(const std::vector<RecordedPostgres>& servers, const kube::Clock& clock,
                          kube::TimePoint start);

  std::unique_ptr<actions::pg::Session> connect(const std::string& conninfo,
                                                const actions::pg::ConnectOptions& options,
                                                actions::pg::Failure* failure) override;

  // What steps did to backends: "terminate 4711 (orders-db)", in order.
  std::vector<std::string> signals() const;

  struct Server;  // a recorded server and its backends now

 private:
  const kube::Clock& clock_;
  kube::TimePoint start_;
  std::shared_ptr<std::mutex> mu_;  // guards every server's backends and signals_
  std::vector<std::shared_ptr<Server>> servers_;
  std::shared_ptr<std::vector<std::string>> signals_;
};

}  // namespace remedy::cli
