// Events written to the sandbox: repeats are aggregated into one Event with
// a count, and a full queue drops instead of blocking the caller.
#include "kube/event_recorder.h"

#include "sandbox_fixture.h"

namespace remedy::kube {
namespace {

using std::chrono::seconds;
using testing::SandboxTest;

class EventRecorderTest : public SandboxTest {};

TEST_F(EventRecorderTest, RepeatsBecomeOneEventWithACount) {
  auto created = client_->create(resources::configMaps(), namespace_, configMap("subject"));
  ASSERT_TRUE(created.ok());
  EventRecorderOptions options;
  options.component = "kube-test";
  options.host = "host-1";
  EventRecorder recorder(*client_, options);
  recorder.start();
  for (int i = 0; i < 5; ++i) recorder.event(*created, "Normal", "Synced", "synced it");
  recorder.event(*created, "Warning", "Failed", "it broke");
  ASSERT_TRUE(recorder.waitIdle(seconds(20)));
  auto events = client_->list(resources::events(), namespace_);
  ASSERT_TRUE(events.ok()) << events.status().toString();
  ASSERT_EQ((*events)["items"].size(), 2u);
  for (const auto& e : (*events)["items"]) {
    EXPECT_EQ(e["involvedObject"]["name"], "subject");
    EXPECT_EQ(e["involvedObject"]["uid"], uidOf(*created));
    EXPECT_EQ(e["source"]["component"], "kube-test");
    if (e["reason"] == "Synced") {
      EXPECT_EQ(e["count"], 5);
    } else {
      EXPECT_EQ(e["count"], 1);
      EXPECT_EQ(e["type"], "Warning");
    }
  }
  EXPECT_EQ(recorder.written(), 6u);
}

TEST_F(EventRecorderTest, AFullQueueDropsInsteadOfBlocking) {
  EventRecorderOptions options;
  options.component = "kube-test";
  options.queueSize = 10;
  EventRecorder recorder(*client_, options);  // not started: nothing drains
  json subject = configMap("s");
  for (int i = 0; i < 25; ++i) recorder.event(subject, "Normal", "R", "m" + std::to_string(i));
  EXPECT_EQ(recorder.dropped(), 15u);
}

}  // namespace
}  // namespace remedy::kube
