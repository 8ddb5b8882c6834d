#include "api/reference.h"

#include "api/action_catalog.h"

#include <algorithm>

namespace remedy::api {
namespace {

bool isPlainSegment(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string didYouMean(const std::string& name, const std::vector<std::string>& candidates) {
  std::optional<std::string> close = closestName(name, candidates);
  return close ? " (did you mean \"" + *close + "\"?)" : "";
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string Reference::str() const {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i == 0) {
      out += path[i];
    } else if (isPlainSegment(path[i])) {
      out += "." + path[i];
    } else {
      out +=
          "[" +
          nlohmann::json(path[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          "]";
    }
  }
  return out;
}

std::optional<std::string> closestName(const std::string& name,
                                       const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t bestDistance = 3;
  for (const std::string& candidate : candidates) {
    size_t d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

std::optional<std::string> checkReference(const Reference& ref, const ReferenceScope& scope) {
  const std::vector<std::string>& p = ref.path;
  if (p.empty()) return std::string("an empty reference");
  const std::string& root = p[0];
  if (root == "alert") {
    static const std::vector<std::string> fields = {"name",     "status", "fingerprint",
                                                    "startsAt", "endsAt", "generatorURL"};
    if (p.size() == 2 && std::count(fields.begin(), fields.end(), p[1])) return std::nullopt;
    if (p.size() == 3 && (p[1] == "labels" || p[1] == "annotations")) return std::nullopt;
    if (p.size() == 2 && (p[1] == "labels" || p[1] == "annotations")) {
      return "alert." + p[1] + " without a name; write alert." + p[1] + ".NAME";
    }
    std::string field = p.size() > 1 ? p[1] : "";
    std::vector<std::string> all = fields;
    all.push_back("labels");
    all.push_back("annotations");
    return "unknown alert field \"" + field + "\"" + didYouMean(field, all) + "; alert has " +
           joined(fields) + ", labels.NAME and annotations.NAME";
  }
  if (root == "params") {
    if (p.size() != 2) return "\"" + ref.str() + "\", which is not params.NAME";
    if (scope.params.count(p[1])) return std::nullopt;
    if (scope.allParams.count(p[1])) {
      return "parameter \"" + p[1] + "\", which is defined after this one";
    }
    std::vector<std::string> known(scope.params.begin(), scope.params.end());
    return "unknown parameter \"" + p[1] + "\"" + didYouMean(p[1], known);
  }
  if (root == "steps") {
    const std::string usage = "; write steps.NAME.outputs.KEY or steps.NAME.phase";
    if (p.size() < 3) return "\"" + ref.str() + "\", which is incomplete" + usage;
    const std::string& name = p[1];
    auto earlier = std::find_if(scope.earlierSteps.begin(), scope.earlierSteps.end(),
                                [&](const auto& step) { return step.first == name; });
    if (earlier == scope.earlierSteps.end()) {
      if (name == scope.currentStep) return "step \"" + name + "\" itself";
      bool exists = std::any_of(scope.allSteps.begin(), scope.allSteps.end(),
                                [&](const auto& step) { return step.first == name; });
      if (exists) return "step \"" + name + "\", which runs after this one";
      std::vector<std::string> known;
      for (const auto& step : scope.earlierSteps) known.push_back(step.first);
      return "unknown step \"" + name + "\"" + didYouMean(name, known);
    }
    if (p.size() == 3 && p[2] == "phase") return std::nullopt;
    if (p.size() != 4 || p[2] != "outputs") return "\"" + ref.str() + "\"" + usage;
    const ActionInfo* action = findAction(earlier->second);
    if (action == nullptr || action->openOutputs) return std::nullopt;
    if (std::count(action->outputs.begin(), action->outputs.end(), p[3])) return std::nullopt;
    const std::string& prefix = action->outputPrefix;
    if (!prefix.empty() && p[3].size() > prefix.size() &&
        p[3].compare(0, prefix.size(), prefix) == 0) {
      return std::nullopt;
    }
    return "output \"" + p[3] + "\", which step \"" + name + "\" (" + action->field +
           ") does not have" + didYouMean(p[3], action->outputs) + "; its outputs are " +
           joined(action->outputs) + (prefix.empty() ? "" : " and " + prefix + "NAME");
  }
  if (root == "incident") {
    static const std::vector<std::string> fields = {"name", "namespace", "source"};
    if (p.size() == 2 && std::count(fields.begin(), fields.end(), p[1])) return std::nullopt;
    return "\"" + ref.str() + "\"; incident has " + joined(fields);
  }
  return "unknown name \"" + root + "\"" +
         didYouMean(root, {"alert", "params", "steps", "incident"}) +
         "; references start with alert, params, steps or incident";
}

const nlohmann::json* lookupReference(const Reference& ref, const nlohmann::json& context) {
  const nlohmann::json* node = &context;
  for (const std::string& segment : ref.path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(segment);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node->is_null() ? nullptr : node;
}

}  // namespace remedy::api
