// Backoff schedules of the work queue's rate limiters and the token bucket
// (util/workqueue/default_rate_limiters.go, golang.org/x/time/rate).
#include "kube/rate_limiter.h"

#include "kube/backoff.h"
#include "kube/clock.h"
#include "kube/token_bucket.h"

#include <gtest/gtest.h>

namespace remedy::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ItemExponentialFailureRateLimiter, DoublesFrom5msAndCapsAt1000s) {
  ItemExponentialFailureRateLimiter limiter(milliseconds(5), seconds(1000));
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
  EXPECT_EQ(limiter.when("a"), milliseconds(10));
  EXPECT_EQ(limiter.when("a"), milliseconds(20));
  EXPECT_EQ(limiter.when("a"), milliseconds(40));
  EXPECT_EQ(limiter.when("b"), milliseconds(5));  // per item
  for (int i = 0; i < 20; ++i) limiter.when("a");
  EXPECT_EQ(limiter.when("a"), seconds(1000));
  // A huge exponent saturates rather than overflows.
  for (int i = 0; i < 2000; ++i) limiter.when("a");
  EXPECT_EQ(limiter.when("a"), seconds(1000));
  EXPECT_EQ(limiter.numRequeues("b"), 1);
  limiter.forget("a");
  EXPECT_EQ(limiter.numRequeues("a"), 0);
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
}

TEST(ItemFastSlowRateLimiter, FastThenSlow) {
  ItemFastSlowRateLimiter limiter(milliseconds(5), seconds(10), 3);
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
  EXPECT_EQ(limiter.when("a"), seconds(10));
  limiter.forget("a");
  EXPECT_EQ(limiter.when("a"), milliseconds(5));
}

TEST(BucketRateLimiter, BurstThenOneTokenPerInterval) {
  FakeClock clock;
  BucketRateLimiter limiter(10.0, 3, clock);
  EXPECT_EQ(limiter.when("a"), Duration(0));
  EXPECT_EQ(limiter.when("b"), Duration(0));
  EXPECT_EQ(limiter.when("c"), Duration(0));
  // The bucket is empty: each further reservation waits 100ms more.
  EXPECT_EQ(limiter.when("d"), milliseconds(100));
  EXPECT_EQ(limiter.when("e"), milliseconds(200));
  clock.step(seconds(1));
  // 1s refilled 10 tokens minus the 2 owed, capped at the burst of 3.
  EXPECT_EQ(limiter.when("f"), Duration(0));
}

TEST(DefaultControllerRateLimiter, IsTheMaxOfPerItemAndOverall) {
  FakeClock clock;
  auto limiter = defaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->when("a"), milliseconds(5));
  EXPECT_EQ(limiter->when("a"), milliseconds(10));
  // 100 burst at 10 qps: after the burst, the bucket dominates.
  Duration last{0};
  for (int i = 0; i < 150; ++i) last = limiter->when("k" + std::to_string(i));
  EXPECT_GT(last, seconds(4));
  EXPECT_EQ(limiter->numRequeues("a"), 2);
}

TEST(TokenBucket, TryAcceptRefillsWithTime) {
  FakeClock clock;
  TokenBucket bucket(2.0, 2, clock);
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
  clock.step(milliseconds(500));
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
}

TEST(TokenBucket, ZeroQpsIsUnlimited) {
  FakeClock clock;
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bucket.reserve(), Duration(0));
}

TEST(ExponentialBackoff, ReflectorScheduleDoublesTo30sAndResetsAfter2Minutes) {
  FakeClock clock;
  ExponentialBackoff::Options options;  // reflector.go defaults
  options.jitterFactor = 0;             // deterministic for the test
  ExponentialBackoff backoff(clock, options);
  std::vector<Duration> expected = {milliseconds(800),  milliseconds(1600),  milliseconds(3200),
                                    milliseconds(6400), milliseconds(12800), milliseconds(25600),
                                    seconds(30),        seconds(30)};
  for (auto e : expected) {
    EXPECT_EQ(backoff.next(), e);
    clock.step(seconds(1));
  }
  clock.step(seconds(121));
  EXPECT_EQ(backoff.next(), milliseconds(800));
}

TEST(ExponentialBackoff, JitterStaysWithinOneFactor) {
  FakeClock clock;
  ExponentialBackoff backoff(clock, ExponentialBackoff::Options{});
  for (int i = 0; i < 50; ++i) {
    Duration d = backoff.next();
    EXPECT_GE(d, milliseconds(800));
    EXPECT_LT(d, seconds(60));
  }
}

TEST(Backoff, StepsMultiplyAndStopAtTheCap) {
  Backoff b;
  b.duration = milliseconds(10);
  b.factor = 5.0;
  b.steps = 4;
  b.cap = milliseconds(300);
  EXPECT_EQ(b.step(), milliseconds(10));
  EXPECT_EQ(b.step(), milliseconds(50));
  EXPECT_EQ(b.step(), milliseconds(250));
  EXPECT_EQ(b.step(), milliseconds(300));
}

}  // namespace
}  // namespace remedy::kube
