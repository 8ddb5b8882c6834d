#include "intake/incident_alert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace remedy::intake {
namespace {

using Paths = std::vector<std::string>;

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `s` is whole UTF-8: no sequence cut short.
bool wholeUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

LabelSet crashLoopingLabels() {
  return {{"alertname", "KubePodCrashLooping"},
          {"namespace", "shop"},
          {"pod", "checkout-7d9f8b6c5-x2x8k"},
          {"container", "checkout"},
          {"severity", "warning"}};
}

TEST(IncidentAlert, AnAlertWithinTheLimitsIsKeptWhole) {
  LabelSet labels = crashLoopingLabels();
  LabelSet annotations = {{"summary", "Pod is crash looping."},
                          {"runbook_url", "https://runbooks.example/KubePodCrashLooping"}};
  LabelSet before = annotations;
  EXPECT_EQ(fitAlertToIncident(labels, annotations, {}), Paths{});
  EXPECT_EQ(labels, crashLoopingLabels());
  EXPECT_EQ(annotations, before);
}

TEST(IncidentAlert, ALongAnnotationIsCutWithAMarkerGivingItsLength) {
  LabelSet labels = crashLoopingLabels();
  std::string description(70000, 'x');
  description.replace(0, 9, "The disk ");
  LabelSet annotations = {{"description", description}, {"summary", "Disk full."}};
  EXPECT_EQ(fitAlertToIncident(labels, annotations, {}), Paths{"annotations.description"});
  const std::string& kept = annotations["description"];
  EXPECT_EQ(kept.size(), 4096u);
  EXPECT_EQ(kept.substr(0, 9), "The disk ");
  EXPECT_TRUE(endsWith(kept, "... [truncated by Remedy: 70000 bytes]")) << kept.substr(4000);
  EXPECT_EQ(annotations["summary"], "Disk full.");
  EXPECT_EQ(labels, crashLoopingLabels());
}

TEST(IncidentAlert, ACutNeverSplitsAUtf8Character) {
  for (size_t offset = 0; offset < 4; ++offset) {
    LabelSet labels = crashLoopingLabels();
    std::string text(offset, 'a');
    while (text.size() < 9000) text += "\xE2\x82\xAC\xC3\xA9\xF0\x9F\x94\xA5";  // € é 🔥
    LabelSet annotations = {{"description", text}};
    fitAlertToIncident(labels, annotations, {});
    const std::string& kept = annotations["description"];
    EXPECT_LE(kept.size(), 4096u);
    EXPECT_TRUE(wholeUtf8(kept)) << "offset " << offset;
  }
}

TEST(IncidentAlert, LongAnnotationsAreCutToACommonLengthAndShortOnesKept) {
  LabelSet labels = crashLoopingLabels();
  std::string url = "https://runbooks.example/DiskFull";
  LabelSet annotations = {{"description", std::string(4000, 'd')},
                          {"details", std::string(4000, 'e')},
                          {"query", std::string(4000, 'q')},
                          {"summary", std::string(3000, 's')},
                          {"runbook_url", url}};
  IncidentAlertLimits limits;
  limits.maxAlertBytes = 8 * 1024;
  EXPECT_EQ(fitAlertToIncident(labels, annotations, limits),
            (Paths{"annotations.description", "annotations.details", "annotations.query",
                   "annotations.summary"}));
  EXPECT_LE(alertBytes(labels, annotations), limits.maxAlertBytes);
  EXPECT_EQ(annotations["runbook_url"], url);
  // The space is shared: no annotation was sacrificed for another.
  size_t shortest = annotations["summary"].size();
  for (const char* name : {"description", "details", "query"}) {
    EXPECT_LE(annotations[name].size(), shortest + 1) << name;
    EXPECT_GE(annotations[name].size() + 1, shortest) << name;
  }
  EXPECT_GT(shortest, 1500u) << "the budget is used, not wasted";
  EXPECT_EQ(labels, crashLoopingLabels());
}

TEST(IncidentAlert, AnAlertAtExactlyTheLimitIsNotCut) {
  LabelSet labels = {{"alertname", "A"}};
  LabelSet annotations = {{"d", ""}};
  IncidentAlertLimits limits;
  limits.maxAlertBytes = 1000;
  annotations["d"] = std::string(1000 - alertBytes(labels, annotations), 'x');
  EXPECT_EQ(fitAlertToIncident(labels, annotations, limits), Paths{});
  EXPECT_EQ(alertBytes(labels, annotations), 1000u);
  annotations["d"] += "x";
  EXPECT_EQ(fitAlertToIncident(labels, annotations, limits), Paths{"annotations.d"});
  EXPECT_LE(alertBytes(labels, annotations), 1000u);
}

TEST(IncidentAlert, LabelsAreCutOnlyWhenAnnotationsAtTheirMarkersDoNotFitAndAlertnameNever) {
  LabelSet labels = {{"alertname", std::string(200, 'A')}};
  for (int i = 0; i < 16; ++i) labels["query" + std::to_string(i)] = std::string(4096, 'q');
  LabelSet annotations = {{"summary", std::string(3000, 's')}};
  std::vector<std::string> cut = fitAlertToIncident(labels, annotations, {});
  EXPECT_LE(alertBytes(labels, annotations), 16u * 1024);
  EXPECT_EQ(labels["alertname"], std::string(200, 'A'));
  EXPECT_EQ(labels.size(), 17u) << "labels are never dropped";
  EXPECT_EQ(cut.size(), 17u);
  EXPECT_EQ(cut.front(), "annotations.summary");
  EXPECT_EQ(annotations["summary"], truncationMarker(3000));
  for (int i = 0; i < 16; ++i) {
    const std::string& v = labels["query" + std::to_string(i)];
    EXPECT_TRUE(endsWith(v, truncationMarker(4096))) << i;
    EXPECT_GT(v.size(), truncationMarker(4096).size()) << "labels keep a prefix";
  }
}

TEST(IncidentAlert, AnnotationsAreDroppedLongestFirstWhenLabelNamesAlmostFillTheLimit) {
  // Labels of 16,330 bytes, names mostly: nothing of them can be cut.
  LabelSet labels = {{"alertname", "NamesEverywhere"}};
  for (int i = 0; alertBytes(labels, {}) + 300 < 16330; ++i) {
    labels[std::string(250, 'n') + std::to_string(i)] = "v";
  }
  labels[std::string(16330 - alertBytes(labels, {}) - 1, 'p')] = "v";
  ASSERT_EQ(alertBytes(labels, {}), 16330u);
  LabelSet kept = labels;
  // At their markers (37 bytes each with their names) the two are 20 bytes
  // too many; dropping one is enough.
  LabelSet annotations = {{"a", std::string(500, 'a')}, {"b", std::string(900, 'b')}};
  std::vector<std::string> cut = fitAlertToIncident(labels, annotations, {});
  EXPECT_LE(alertBytes(labels, annotations), 16u * 1024);
  EXPECT_EQ(labels, kept);
  EXPECT_EQ(annotations.count("a"), 0u);
  EXPECT_EQ(annotations["b"], truncationMarker(900));
  EXPECT_EQ(cut, (Paths{"annotations.a", "annotations.b"}));
}

TEST(IncidentAlert, FieldPathsQuoteNamesThatAreNotIdentifiers) {
  LabelSet labels = {{"alertname", "A"}};
  LabelSet annotations = {{"runbook-url", std::string(5000, 'u')}};
  EXPECT_EQ(fitAlertToIncident(labels, annotations, {}), Paths{"annotations[\"runbook-url\"]"});
}

}  // namespace
}  // namespace remedy::intake
