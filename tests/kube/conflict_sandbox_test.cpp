// Concurrent updaters of one object all succeed through retry-on-conflict
// and no update is lost.
#include "kube/retry.h"

#include "kube/named_thread.h"
#include "sandbox_fixture.h"

namespace remedy::kube {
namespace {

using testing::SandboxTest;

class ConflictTest : public SandboxTest {};

TEST_F(ConflictTest, ConcurrentIncrementsAreAllKept) {
  ASSERT_TRUE(
      client_->create(resources::configMaps(), namespace_, configMap("counter", {{"value", "0"}})));
  constexpr int kUpdaters = 4;
  constexpr int kIncrements = 15;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};
  std::vector<NamedThread> threads;
  for (int u = 0; u < kUpdaters; ++u) {
    threads.emplace_back("updater" + std::to_string(u), [&] {
      auto client = newClient();
      // Enough tries for four-way contention; callers choose their backoff.
      Backoff backoff = defaultRetry();
      backoff.steps = 100;
      backoff.jitterFactor = 1.0;
      for (int i = 0; i < kIncrements; ++i) {
        Status s = retryOnConflict(backoff, [&] {
          auto current = client->get(resources::configMaps(), namespace_, "counter");
          if (!current) return current.status();
          int value = std::stoi((*current)["data"]["value"].get<std::string>());
          (*current)["data"]["value"] = std::to_string(value + 1);
          Status written = client->update(resources::configMaps(), namespace_, *current).status();
          if (isConflict(written)) ++conflicts;
          return written;
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  auto final = client_->get(resources::configMaps(), namespace_, "counter");
  ASSERT_TRUE(final.ok());
  EXPECT_EQ((*final)["data"]["value"], std::to_string(kUpdaters * kIncrements));
  EXPECT_GT(conflicts, 0) << "the test did not create contention";
}

TEST_F(ConflictTest, NonConflictErrorsAreNotRetried) {
  int calls = 0;
  Status s = retryOnConflict(defaultRetry(), [&] {
    ++calls;
    return client_->get(resources::configMaps(), namespace_, "missing").status();
  });
  EXPECT_TRUE(isNotFound(s));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace remedy::kube
