// Work queue properties (client-go util/workqueue semantics) with a fake
// clock: no sleeps.
#include "kube/work_queue.h"

#include "kube/clock.h"
#include "kube/named_thread.h"
#include "kube/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace remedy::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<RateLimiter> exponential(Duration base, Duration max) {
  return std::make_unique<ItemExponentialFailureRateLimiter>(base, max);
}

TEST(WorkQueue, AddingAKeyTwiceQueuesItOnce) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsQueuedAgainOnlyWhenDone) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.add("a");
  auto item = q.get();
  ASSERT_EQ(*item, "a");
  q.add("a");
  q.add("a");
  // Not handed to a second worker while the first holds it.
  EXPECT_EQ(q.len(), 0u);
  EXPECT_FALSE(q.getUntil(clock.now()).has_value());
  q.done("a");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(*q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, NoKeyIsProcessedByTwoWorkersAtOnce) {
  WorkQueue q(exponential(milliseconds(0), milliseconds(0)));
  std::mutex mu;
  std::set<std::string> inFlight;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<NamedThread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back("worker" + std::to_string(w), [&] {
      while (auto key = q.get()) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!inFlight.insert(*key).second) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> lock(mu);
          inFlight.erase(*key);
        }
        ++processed;
        q.done(*key);
      }
    });
  }
  for (int i = 0; i < 5000; ++i) q.add("key" + std::to_string(i % 7));
  // Wait for the queue to drain, with a deadline.
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (q.len() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  q.shutDownWithDrain();
  for (auto& w : workers) w.join();
  EXPECT_FALSE(overlap);
  EXPECT_GT(processed, 0);
}

TEST(WorkQueue, AddAfterWaitsForTheClockAndKeepsTheEarliestTime) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.addAfter("a", seconds(10));
  q.addAfter("a", seconds(5));   // earlier wins
  q.addAfter("a", seconds(20));  // later is ignored
  EXPECT_EQ(q.len(), 0u);
  EXPECT_EQ(q.waiting(), 1u);
  clock.step(seconds(4));
  EXPECT_EQ(q.len(), 0u);
  clock.step(seconds(1));
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.waiting(), 0u);
}

TEST(WorkQueue, AddAfterOfZeroAddsAtOnce) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.addAfter("a", Duration(0));
  EXPECT_EQ(q.len(), 1u);
}

TEST(WorkQueue, BlockedGetWakesWhenAWaitingItemBecomesDue) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.addAfter("a", seconds(3));
  std::optional<std::string> got;
  NamedThread worker("getter", [&] { got = q.get(); });
  // Step only once the worker is parked on the clock.
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (clock.waiters() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  clock.step(seconds(3));
  worker.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "a");
}

TEST(WorkQueue, RateLimitedAddsBackOffPerItemAndForgetResets) {
  FakeClock clock;
  WorkQueue q(exponential(milliseconds(5), seconds(1000)), clock);
  q.addRateLimited("a");  // 5ms
  EXPECT_EQ(q.numRequeues("a"), 1);
  clock.step(milliseconds(4));
  EXPECT_EQ(q.len(), 0u);
  clock.step(milliseconds(1));
  EXPECT_EQ(q.len(), 1u);
  q.done(*q.get());
  q.addRateLimited("a");  // 10ms
  clock.step(milliseconds(9));
  EXPECT_EQ(q.len(), 0u);
  clock.step(milliseconds(1));
  EXPECT_EQ(q.len(), 1u);
  q.done(*q.get());
  q.forget("a");
  EXPECT_EQ(q.numRequeues("a"), 0);
  q.addRateLimited("a");  // back to 5ms
  clock.step(milliseconds(5));
  EXPECT_EQ(q.len(), 1u);
}

TEST(WorkQueue, ShutDownIgnoresNewAddsAndDrainsWhatIsReady) {
  FakeClock clock;
  WorkQueue q(nullptr, clock);
  q.add("a");
  q.addAfter("later", seconds(1));
  q.shutDown();
  q.add("b");
  EXPECT_TRUE(q.shuttingDown());
  auto first = q.get();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, "a");
  q.done("a");
  clock.step(seconds(2));
  EXPECT_FALSE(q.get().has_value());
}

TEST(WorkQueue, ShutDownWithDrainWaitsForItemsInProgress) {
  WorkQueue q;
  q.add("a");
  auto item = q.get();
  ASSERT_TRUE(item);
  std::atomic<bool> drained{false};
  NamedThread stopper("stopper", [&] {
    q.shutDownWithDrain();
    drained = true;
  });
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!q.shuttingDown() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_FALSE(drained);
  q.done("a");
  stopper.join();
  EXPECT_TRUE(drained);
}

}  // namespace
}  // namespace remedy::kube
