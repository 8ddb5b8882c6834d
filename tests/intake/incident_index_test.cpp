// The intake's index of Incidents, fed by an informer that keeps only what
// the index reads.
#include "intake/incident_index.h"

#include <gtest/gtest.h>

namespace remedy::intake {
namespace {

using kube::json;

TEST(IncidentIndex, KeepsOfAnIncidentOnlyItsIdentityAndPhase) {
  json incident = {
      {"apiVersion", "remedy.dev/v1alpha1"},
      {"kind", "Incident"},
      {"metadata",
       {{"name", "disk-full-0a1b"},
        {"namespace", "shop"},
        {"resourceVersion", "42"},
        {"uid", "5f0c1d2e"},
        {"labels", {{"remedy.dev/alertname", "DiskFull"}}}}},
      {"spec", {{"source", "Alertmanager"}, {"alert", {{"name", "DiskFull"}}}}},
      {"status", {{"phase", "Succeeded"}, {"timeline", json::array({{{"type", "Matched"}}})}}}};
  IncidentIndex::keepWhatItReads(incident);
  EXPECT_EQ(incident,
            json({{"metadata",
                   {{"name", "disk-full-0a1b"}, {"namespace", "shop"}, {"resourceVersion", "42"}}},
                  {"status", {{"phase", "Succeeded"}}}}));
  EXPECT_EQ(kube::objectKey(incident), "shop/disk-full-0a1b");

  json fresh = {{"metadata", {{"name", "new"}, {"namespace", "shop"}, {"resourceVersion", "7"}}},
                {"spec", json::object()}};
  IncidentIndex::keepWhatItReads(fresh);
  EXPECT_EQ(
      fresh,
      json({{"metadata", {{"name", "new"}, {"namespace", "shop"}, {"resourceVersion", "7"}}}}));
}

}  // namespace
}  // namespace remedy::intake
