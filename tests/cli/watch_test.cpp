// remedyctl watch follows Incidents as the operator writes them: one line per
// new timeline entry, each printed once, across Incidents created later.
#include "cli_fixture.h"

namespace remedy::testing {
namespace {

class WatchTest : public CliTest {};

TEST_F(WatchTest, PrintsOneLinePerTransitionAsTheOperatorRecordsIt) {
  // An Incident waiting for approval, and one part of the way through.
  load(recorded("database-connection-pool-exhausted-"));
  json latency = recorded("high-latency-1f5d21be13c72de7");
  json partial = latency;
  partial["status"]["phase"] = "Running";
  partial["status"]["currentStep"] = "restart";
  partial["status"]["timeline"] = json(std::vector<json>(
      latency["status"]["timeline"].begin(), latency["status"]["timeline"].begin() + 4));
  partial["status"].erase("finishedAt");
  load(partial);
  ASSERT_FALSE(HasFatalFailure());

  ChildProcess watch(remedyctlOptions({"watch", "-n", "shop"}));
  auto output = [&] { return watch.log(); };
  ASSERT_TRUE(waitUntil([&] { return output().find("high-latency") != std::string::npos; }))
      << output();

  // The operator finishes it; then a new Incident arrives and fails.
  auto current = client_->get(incidentsResource(), "shop", kube::nameOf(latency));
  ASSERT_TRUE(current.ok());
  writeStatus(*current, latency["status"]);
  ASSERT_TRUE(waitUntil([&] { return output().find("Reverted") != std::string::npos; }))
      << output();
  load(recorded("redis-high-memory-"));
  ASSERT_TRUE(waitUntil([&] { return output().find("  Failed: ") != std::string::npos; }))
      << output();
  watch.stop();
  expectGolden("watch.txt", output());
}

}  // namespace
}  // namespace remedy::testing
