#include "intake/incident_alert.h"

#include "intake/alert_payload.h"

#include <algorithm>
#include <functional>
#include <set>

namespace remedy::intake {

namespace {

// `value` cut to at most `target` bytes, its marker included (the marker
// alone when the target is shorter than it), never inside a UTF-8 sequence.
std::string cut(const std::string& value, size_t target) {
  std::string marker = truncationMarker(value.size());
  if (target <= marker.size()) return marker;
  size_t keep = target - marker.size();
  while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xC0) == 0x80) --keep;
  return value.substr(0, keep) + marker;
}

// Whether cutting can make `value` shorter at all.
bool cuttable(const std::string& value) {
  return value.size() > truncationMarker(value.size()).size();
}

// The size `value` has once values longer than `level` are cut to it.
size_t sizeAtLevel(const std::string& value, size_t level) {
  if (value.size() <= level || !cuttable(value)) return value.size();
  return std::min(value.size(), cut(value, level).size());
}

// Cuts the values of `entries` that are longer than a common level, the
// highest level at which they take at most `budget` bytes together (the
// markers when even level 0 does not fit). Adds the cut ones to `cutPaths`.
void cutToBudget(LabelSet& entries, const std::string& field,
                 const std::function<bool(const std::string&)>& fixed, size_t budget,
                 std::set<std::string>* cutPaths) {
  size_t longest = 0;
  for (const auto& [name, value] : entries) {
    if (!fixed(name)) longest = std::max(longest, value.size());
  }
  auto total = [&](size_t level) {
    size_t sum = 0;
    for (const auto& [name, value] : entries) {
      sum += fixed(name) ? value.size() : sizeAtLevel(value, level);
    }
    return sum;
  };
  if (total(longest) <= budget) return;
  // The highest level that fits: total() does not decrease with the level.
  size_t low = 0;
  size_t high = longest;
  while (low < high) {
    size_t mid = low + (high - low + 1) / 2;
    if (total(mid) <= budget) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  for (auto& [name, value] : entries) {
    if (fixed(name) || value.size() <= low || !cuttable(value)) continue;
    std::string shorter = cut(value, low);
    if (shorter.size() >= value.size()) continue;
    value = std::move(shorter);
    cutPaths->insert(fieldPath(field, name));
  }
}

size_t valueBytes(const LabelSet& entries) {
  size_t sum = 0;
  for (const auto& [name, value] : entries) sum += value.size();
  return sum;
}

size_t nameBytes(const LabelSet& entries) {
  size_t sum = 0;
  for (const auto& [name, value] : entries) sum += name.size();
  return sum;
}

size_t budgetLeft(size_t limit, size_t used) { return used >= limit ? 0 : limit - used; }

}  // namespace

std::string truncationMarker(size_t originalBytes) {
  return "... [truncated by Remedy: " + std::to_string(originalBytes) + " bytes]";
}

size_t alertBytes(const LabelSet& labels, const LabelSet& annotations) {
  return nameBytes(labels) + valueBytes(labels) + nameBytes(annotations) + valueBytes(annotations);
}

std::vector<std::string> fitAlertToIncident(LabelSet& labels, LabelSet& annotations,
                                            const IncidentAlertLimits& limits) {
  std::set<std::string> changed;
  auto never = [](const std::string&) { return false; };
  for (auto& [name, value] : annotations) {
    if (value.size() <= limits.maxAnnotationValueBytes || !cuttable(value)) continue;
    value = cut(value, limits.maxAnnotationValueBytes);
    changed.insert(fieldPath("annotations", name));
  }
  const size_t max = limits.maxAlertBytes;
  if (alertBytes(labels, annotations) > max) {
    size_t others = nameBytes(labels) + valueBytes(labels) + nameBytes(annotations);
    cutToBudget(annotations, "annotations", never, budgetLeft(max, others), &changed);
  }
  if (alertBytes(labels, annotations) > max) {
    auto isAlertName = [](const std::string& name) { return name == "alertname"; };
    size_t others = nameBytes(labels) + nameBytes(annotations) + valueBytes(annotations);
    cutToBudget(labels, "labels", isAlertName, budgetLeft(max, others), &changed);
  }
  while (alertBytes(labels, annotations) > max && !annotations.empty()) {
    auto longest =
        std::max_element(annotations.begin(), annotations.end(), [](const auto& a, const auto& b) {
          return a.first.size() + a.second.size() < b.first.size() + b.second.size();
        });
    changed.insert(fieldPath("annotations", longest->first));
    annotations.erase(longest);
  }
  return {changed.begin(), changed.end()};
}

}  // namespace remedy::intake
