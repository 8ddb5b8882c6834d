// The webhook as a real Alertmanager calls it: alerts posted to Alertmanager
// reach the intake with its bearer token and become Incidents; resolution
// follows; two Alertmanagers of an HA pair make one Incident.
#include "intake_fixture.h"

#include <fstream>

namespace remedy::intake::testing {
namespace {

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

class AlertmanagerTest : public IntakeTest {
 protected:
  void SetUp() override {
    // A missing Alertmanager fails the run (scripts/install-deps.sh installs it).
    ASSERT_EQ(::access(kAlertmanager, X_OK), 0) << kAlertmanager << " is not installed";
    IntakeTest::SetUp();
  }

  // Starts an Alertmanager that sends every alert group at once (and its
  // resolution a second later) to the intake; returns its port.
  int startAlertmanager(const std::string& name) {
    int port = remedy::testing::freeLoopbackPort();
    std::string home = dir_->path() + "/" + name;
    ::mkdir(home.c_str(), 0700);
    std::ofstream(home + "/alertmanager.yml") << "route:\n"
                                                 "  receiver: remedy\n"
                                                 "  group_by: ['...']\n"
                                                 "  group_wait: 0s\n"
                                                 "  group_interval: 1s\n"
                                                 "  repeat_interval: 1h\n"
                                                 "receivers:\n"
                                                 "  - name: remedy\n"
                                                 "    webhook_configs:\n"
                                                 "      - url: http://127.0.0.1:"
                                              << server_->port() << AlertIntake::kPath
                                              << "\n"
                                                 "        send_resolved: true\n"
                                                 "        http_config:\n"
                                                 "          authorization:\n"
                                                 "            type: Bearer\n"
                                                 "            credentials_file: "
                                              << tokenFile_ << "\n";
    remedy::testing::ProcessOptions options;
    options.argv = {kAlertmanager,
                    "--config.file=" + home + "/alertmanager.yml",
                    "--storage.path=" + home + "/data",
                    "--web.listen-address=127.0.0.1:" + std::to_string(port),
                    "--cluster.listen-address=",
                    "--log.level=debug"};
    options.logPath = home + "/alertmanager.log";
    processes_.push_back(std::make_unique<remedy::testing::ChildProcess>(options));
    bool ready = remedy::testing::waitUntil([&] {
      return httpRequest(static_cast<uint16_t>(port), "GET", "/-/ready", {}, "").code == 200;
    });
    EXPECT_TRUE(ready) << processes_.back()->log();
    return port;
  }

  // Alertmanager's API v2, as Prometheus posts alerts.
  void postToAlertmanager(int port, const json& alerts) {
    auto answer = httpRequest(static_cast<uint16_t>(port), "POST", "/api/v2/alerts",
                              {{"Content-Type", "application/json"}}, alerts.dump());
    ASSERT_EQ(answer.code, 200) << answer.body;
  }

  void TearDown() override {
    processes_.clear();
    IntakeTest::TearDown();
  }

  std::vector<std::unique_ptr<remedy::testing::ChildProcess>> processes_;
};

TEST_F(AlertmanagerTest, FiringAndResolvedAlertsReachTheIncident) {
  startIntake();
  int am = startAlertmanager("am0");
  json labels = {
      {"alertname", "HighErrorRate"}, {"service", "checkout"}, {"namespace", namespace_}};
  postToAlertmanager(am, json::array({{{"labels", labels},
                                       {"annotations", {{"summary", "5% of requests fail"}}},
                                       {"startsAt", "2024-05-01T12:00:00Z"},
                                       {"generatorURL", "http://prometheus:9090/graph"}}}));
  ASSERT_TRUE(eventually([&] { return incidents().size() == 1; })) << processes_.back()->log();
  json inc = incidents()[0];
  EXPECT_EQ(inc["spec"]["source"], "Alertmanager");
  EXPECT_EQ(inc["spec"]["alert"]["name"], "HighErrorRate");
  EXPECT_EQ(inc["spec"]["alert"]["status"], "firing");
  EXPECT_EQ(inc["spec"]["alert"]["annotations"]["summary"], "5% of requests fail");
  EXPECT_EQ(inc["spec"]["alert"]["fingerprint"],
            alertmanagerFingerprint(labels.get<std::map<std::string, std::string>>()));
  EXPECT_FALSE(inc["spec"]["alert"].contains("endsAt"));

  postToAlertmanager(am, json::array({{{"labels", labels},
                                       {"startsAt", "2024-05-01T12:00:00Z"},
                                       {"endsAt", "2024-05-01T12:20:00Z"}}}));
  ASSERT_TRUE(eventually([&] {
    auto all = incidents();
    return all.size() == 1 && all[0]["spec"]["alert"]["status"] == "resolved";
  })) << processes_.back()->log();
  EXPECT_EQ(incidents()[0]["spec"]["alert"]["endsAt"], "2024-05-01T12:20:00Z");
  EXPECT_EQ(metric("remedy_intake_requests_total", "code", "401"), 0);
}

TEST_F(AlertmanagerTest, HaPairOfAlertmanagersMakesOneIncident) {
  startIntake();
  int am0 = startAlertmanager("am0");
  int am1 = startAlertmanager("am1");
  // Prometheus sends every alert to both members of the pair.
  json alerts = json::array({{{"labels", {{"alertname", "NodeDown"}, {"instance", "node-7"}}},
                              {"startsAt", "2024-05-01T12:00:00Z"}}});
  postToAlertmanager(am0, alerts);
  postToAlertmanager(am1, alerts);
  ASSERT_TRUE(eventually([&] {
    return metric("remedy_alerts_handled_total", "outcome", "created") +
               metric("remedy_alerts_handled_total", "outcome", "existing") >=
           2;
  })) << processes_[0]->log()
      << processes_[1]->log();
  EXPECT_EQ(incidents().size(), 1u);
  EXPECT_EQ(metric("remedy_alerts_handled_total", "outcome", "created"), 1);
}

}  // namespace
}  // namespace remedy::intake::testing
