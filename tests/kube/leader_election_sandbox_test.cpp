// Two leader-election candidates against one sandbox: exactly one leads;
// when the leader stops renewing the other takes over within the lease
// duration plus a retry period; a graceful release hands over at once.
#include "kube/leader_elector.h"

#include "kube/named_thread.h"
#include "sandbox_fixture.h"

#include <gmock/gmock.h>

namespace remedy::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::eventually;
using testing::SandboxTest;

// Forwards to a client until partitioned; then every call fails as a
// network partition would, so a leader stops renewing without knowing.
class PartitionableClient : public Client {
 public:
  explicit PartitionableClient(Client& inner) : inner_(inner) {}
  void partition() { partitioned_ = true; }

  Result<json> get(const Resource& r, const std::string& ns, const std::string& name,
                   const GetOptions& o) override {
    if (partitioned_) return down();
    return inner_.get(r, ns, name, o);
  }
  Result<json> list(const Resource& r, const std::string& ns, const ListOptions& o) override {
    if (partitioned_) return down();
    return inner_.list(r, ns, o);
  }
  Result<json> create(const Resource& r, const std::string& ns, const json& obj,
                      const WriteOptions& o) override {
    if (partitioned_) return down();
    return inner_.create(r, ns, obj, o);
  }
  Result<json> update(const Resource& r, const std::string& ns, const json& obj,
                      const WriteOptions& o) override {
    if (partitioned_) return down();
    return inner_.update(r, ns, obj, o);
  }
  Result<json> patch(const Resource& r, const std::string& ns, const std::string& name,
                     const std::string& body, const PatchOptions& o) override {
    if (partitioned_) return down();
    return inner_.patch(r, ns, name, body, o);
  }
  Result<json> remove(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& o) override {
    if (partitioned_) return down();
    return inner_.remove(r, ns, name, o);
  }
  Result<std::unique_ptr<WatchStream>> watch(const Resource& r, const std::string& ns,
                                             const ListOptions& o) override {
    if (partitioned_) return down();
    return inner_.watch(r, ns, o);
  }
  Result<Resource> resourceFor(const std::string& apiVersion, const std::string& kind) override {
    return inner_.resourceFor(apiVersion, kind);
  }

 private:
  static Status down() { return Status::connectionFailed("partitioned"); }
  Client& inner_;
  std::atomic<bool> partitioned_{false};
};

// One candidate on its own thread, recording when it leads.
struct Candidate {
  Candidate(Client& client, const std::string& ns, const std::string& id, Duration lease,
            Duration renew, Duration retry, std::atomic<int>& leaders, std::atomic<int>& maxLeaders)
      : partitionable(client) {
    LeaderElectionConfig c;
    c.namespace_ = ns;
    c.name = "the-lease";
    c.identity = id;
    c.leaseDuration = lease;
    c.renewDeadline = renew;
    c.retryPeriod = retry;
    c.onStartedLeading = [this, &leaders, &maxLeaders](StopSignal& leading) {
      int now = ++leaders;
      int seen = maxLeaders.load();
      while (now > seen && !maxLeaders.compare_exchange_weak(seen, now)) {
      }
      leadingNow = true;
      startedAt = std::chrono::steady_clock::now();
      leading.wait();
      leadingNow = false;
      --leaders;
    };
    c.onStoppedLeading = [this] { stoppedLeading = true; };
    EXPECT_TRUE(validate(c).ok()) << validate(c).toString();
    elector = std::make_unique<LeaderElector>(partitionable, c);
    thread = NamedThread("cand-" + id, [this] { elector->run(stop); });
  }
  ~Candidate() {
    stop.requestStop();
    thread.join();
  }

  PartitionableClient partitionable;
  std::unique_ptr<LeaderElector> elector;
  StopSignal stop;
  std::atomic<bool> leadingNow{false};
  std::atomic<bool> stoppedLeading{false};
  std::chrono::steady_clock::time_point startedAt;
  NamedThread thread;
};

class LeaderElectionTest : public SandboxTest {
 protected:
  std::atomic<int> leaders_{0};
  std::atomic<int> maxLeaders_{0};
};

TEST_F(LeaderElectionTest, ExactlyOneLeadsAndTheOtherTakesOverWhenItStopsRenewing) {
  const Duration lease = seconds(3), renew = seconds(2), retry = milliseconds(400);
  auto clientA = newClient();
  auto clientB = newClient();
  Candidate a(*clientA, namespace_, "a", lease, renew, retry, leaders_, maxLeaders_);
  Candidate b(*clientB, namespace_, "b", lease, renew, retry, leaders_, maxLeaders_);
  ASSERT_TRUE(eventually([&] { return a.leadingNow || b.leadingNow; }, seconds(10)));
  Candidate& leader = a.leadingNow ? a : b;
  Candidate& follower = a.leadingNow ? b : a;
  // Over a few renewals nothing changes.
  EXPECT_FALSE(eventually([&] { return follower.leadingNow.load(); }, seconds(3)));
  EXPECT_EQ(follower.elector->leader(), leader.elector->leader());

  auto cut = std::chrono::steady_clock::now();
  leader.partitionable.partition();
  ASSERT_TRUE(eventually([&] { return follower.leadingNow.load(); }, seconds(15)));
  auto takeover = follower.startedAt - cut;
  // Lease duration plus one (jittered, x2.2 at most) retry period, plus the
  // time a request takes.
  EXPECT_LE(takeover, lease + retry * 2.2 + milliseconds(500))
      << std::chrono::duration_cast<milliseconds>(takeover).count() << "ms";
  // The partitioned leader gave up on its own, before the takeover.
  EXPECT_TRUE(leader.stoppedLeading);
  EXPECT_EQ(maxLeaders_.load(), 1);
}

TEST_F(LeaderElectionTest, GracefulReleaseHandsOverAtOnce) {
  // A long lease: only a release explains a quick takeover.
  const Duration lease = seconds(20), renew = seconds(10), retry = milliseconds(300);
  auto clientA = newClient();
  auto clientB = newClient();
  auto a = std::make_unique<Candidate>(*clientA, namespace_, "a", lease, renew, retry, leaders_,
                                       maxLeaders_);
  ASSERT_TRUE(eventually([&] { return a->leadingNow.load(); }, seconds(10)));
  Candidate b(*clientB, namespace_, "b", lease, renew, retry, leaders_, maxLeaders_);
  EXPECT_TRUE(eventually([&] { return b.elector->leader() == "a"; }, seconds(5)));
  auto released = std::chrono::steady_clock::now();
  a.reset();  // graceful stop: releases the lease
  ASSERT_TRUE(eventually([&] { return b.leadingNow.load(); }, seconds(10)));
  EXPECT_LE(b.startedAt - released, retry * 2.2 + milliseconds(500));
  EXPECT_EQ(maxLeaders_.load(), 1);

  auto lease_ = client_->get(resources::leases(), namespace_, "the-lease");
  ASSERT_TRUE(lease_.ok());
  EXPECT_EQ((*lease_)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease_)["spec"]["leaseTransitions"], 1);
}

// The fence turns false renewDeadline - fenceMargin after the last renewal
// began, while the elector still counts itself the leader.
TEST_F(LeaderElectionTest, MayActOnlyWithinTheRenewDeadlineLessTheMargin) {
  FakeClock clock;
  auto client = newClient();
  PartitionableClient partitionable(*client);
  LeaderElectionConfig c;
  c.namespace_ = namespace_;
  c.name = "the-lease";
  c.identity = "a";
  c.leaseDuration = seconds(15);
  c.renewDeadline = seconds(10);
  c.retryPeriod = seconds(2);
  c.fenceMargin = seconds(3);
  c.onStartedLeading = [](StopSignal& leading) { leading.wait(); };
  ASSERT_TRUE(validate(c).ok());
  LeaderElector elector(partitionable, c, clock);
  EXPECT_FALSE(elector.mayAct()) << "not leading yet";
  StopSignal stop;
  NamedThread thread("cand-a", [&] { elector.run(stop); });
  ASSERT_TRUE(eventually([&] { return elector.isLeader(); }, seconds(10)));
  EXPECT_TRUE(elector.mayAct());
  // No renewal succeeds from here; fake time moves only on step().
  partitionable.partition();
  clock.step(seconds(7) - milliseconds(1));
  EXPECT_TRUE(elector.mayAct());
  clock.step(milliseconds(1));
  EXPECT_FALSE(elector.mayAct()) << "renewDeadline - fenceMargin after the last renewal";
  EXPECT_TRUE(elector.isLeader()) << "fenced before the renew deadline gives up";
  stop.requestStop();
  thread.join();
  EXPECT_FALSE(elector.mayAct());
}

TEST(LeaderElectionFence, WithinRenewDeadlineLessMargin) {
  TimePoint renewed{seconds(100)};
  EXPECT_TRUE(withinFence(renewed, renewed, seconds(10), seconds(2)));
  EXPECT_TRUE(withinFence(renewed, renewed + milliseconds(7999), seconds(10), seconds(2)));
  EXPECT_FALSE(withinFence(renewed, renewed + seconds(8), seconds(10), seconds(2)));
  EXPECT_FALSE(withinFence(renewed, renewed + seconds(60), seconds(10), seconds(2)));
}

TEST(LeaderElectionConfig, RejectsInconsistentDurations) {
  LeaderElectionConfig c;
  c.namespace_ = "ns";
  c.name = "l";
  c.identity = "me";
  EXPECT_TRUE(validate(c).ok());  // client-go defaults
  c.renewDeadline = seconds(15);
  EXPECT_FALSE(validate(c).ok());
  c.renewDeadline = seconds(2);
  c.retryPeriod = seconds(2);
  EXPECT_FALSE(validate(c).ok());
  c.retryPeriod = milliseconds(500);
  c.leaseDuration = milliseconds(2500);
  EXPECT_FALSE(validate(c).ok());
  c.leaseDuration = seconds(3);
  c.fenceMargin = seconds(2);
  EXPECT_FALSE(validate(c).ok()) << "a margin as long as the renew deadline";
  c.fenceMargin = milliseconds(500);
  EXPECT_TRUE(validate(c).ok());
}

}  // namespace
}  // namespace remedy::kube
