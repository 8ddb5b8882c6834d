// remedyctl's on-call commands against a sandbox holding recorded Incidents.
//
// testdata/incidents.json and testdata/events.json were recorded from
// remedy-operator on the sandbox (scripts of alerts through the webhook):
// Succeeded with a revert done, Succeeded after a failed step and an
// approval, Skipped by a cooldown, Failed, Escalated with a notification
// sent, and AwaitingApproval with a revert pending. The fixture loads them
// (status through the status subresource, as the operator wrote it), runs
// remedyctl as a process with REMEDYCTL_NOW fixed, and compares its output
// with golden/NAME. REMEDY_UPDATE_GOLDEN=1 rewrites the golden files instead.
#pragma once

#include "../support/api_server.h"
#include "../support/child_process.h"
#include "api/yaml_json.h"
#include "kube/resource.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

namespace remedy::testing {

inline kube::Resource incidentsResource() {
  return {"remedy.dev", "v1alpha1", "incidents", "Incident", true};
}

class CliTest : public ApiServerTest {
 protected:
  static constexpr const char* kNow = "2026-12-06T20:40:00Z";

  void SetUp() override {
    ApiServerTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = std::make_unique<TempDir>("remedyctl-cli-test");
    for (const char* kind : {"runbooks", "incidents", "approvals"}) {
      auto crd = api::yamlToJson(
          readTextFile(std::string(REMEDY_SOURCE_DIR) + "/crds/remedy.dev_" + kind + ".yaml"));
      ASSERT_TRUE(crd.ok()) << crd.error();
      ensureCreated(kube::resources::customResourceDefinitions(), *crd);
    }
    createNamespace("shop");
    createNamespace("payments");
    ASSERT_TRUE(eventuallyTrue([&] { return client_->list(incidentsResource(), "shop").ok(); }));
    kubeconfig_ = adminKubeconfigFile(dir_->path());
  }

  static json testdata(const std::string& file) {
    return json::parse(
        readTextFile(std::string(REMEDY_SOURCE_DIR) + "/tests/cli/testdata/" + file));
  }

  // The recorded Incident whose name starts with `prefix`.
  static json recorded(const std::string& prefix) {
    const json incidents = testdata("incidents.json");
    for (const auto& i : incidents["items"]) {
      if (kube::nameOf(i).rfind(prefix, 0) == 0) return i;
    }
    ADD_FAILURE() << "no recorded incident " << prefix;
    return json::object();
  }

  // Creates `incident`, then writes its status as the operator does.
  void load(const json& incident) {
    json object = incident;
    json status = object["status"];
    object.erase("status");
    std::string ns = kube::namespaceOf(object);
    auto created = client_->create(incidentsResource(), ns, object);
    ASSERT_TRUE(created.ok()) << created.status().toString();
    writeStatus(*created, status);
  }

  void writeStatus(json object, const json& status) {
    object["status"] = status;
    kube::WriteOptions options;
    options.subresource = "status";
    auto updated = client_->update(incidentsResource(), kube::namespaceOf(object), object, options);
    ASSERT_TRUE(updated.ok()) << updated.status().toString();
  }

  void loadAll() {
    const json incidents = testdata("incidents.json");
    for (const auto& i : incidents["items"]) {
      load(i);
      if (HasFatalFailure()) return;
    }
    const json events = testdata("events.json");
    for (const auto& e : events["items"]) {
      auto created = client_->create(kube::resources::events(), kube::namespaceOf(e), e);
      ASSERT_TRUE(created.ok()) << created.status().toString();
    }
  }

  ProcessOptions remedyctlOptions(const std::vector<std::string>& args) {
    ProcessOptions p;
    p.argv = {std::string(REMEDY_BINARY_DIR) + "/src/cli/remedyctl"};
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    p.argv.insert(p.argv.end(), {"--kubeconfig", kubeconfig_});
    p.env["REMEDYCTL_NOW"] = kNow;
    p.logPath = dir_->path() + "/remedyctl-" + std::to_string(++runs_) + ".out";
    return p;
  }

  // Runs remedyctl to the end: its exit code (-1 when it did not exit in
  // time) and its output (stdout and stderr).
  std::pair<int, std::string> remedyctl(const std::vector<std::string>& args) {
    ChildProcess cli(remedyctlOptions(args));
    bool exited = waitUntil([&] { return !cli.running(); }, std::chrono::seconds(30));
    int status = cli.exitStatus();
    return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, cli.log()};
  }

  // Compares `actual` with golden/`name` (or rewrites it).
  static void expectGolden(const std::string& name, const std::string& actual) {
    std::string path = std::string(REMEDY_SOURCE_DIR) + "/tests/cli/golden/" + name;
    if (const char* update = std::getenv("REMEDY_UPDATE_GOLDEN"); update && *update) {
      std::ofstream(path) << actual;
      return;
    }
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path << " missing; run with REMEDY_UPDATE_GOLDEN=1 to write it";
    EXPECT_EQ(readTextFile(path), actual) << "differs from " << path;
  }

  std::unique_ptr<TempDir> dir_;
  std::string kubeconfig_;
  int runs_ = 0;
};

}  // namespace remedy::testing
