// Label and field selectors as the API server parses and applies them: the
// query-string syntax of `?labelSelector=` and `?fieldSelector=`, and the
// metav1.LabelSelector objects in Deployment, ReplicaSet, StatefulSet,
// DaemonSet, Job and PodDisruptionBudget specs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sandbox/api_error.h"

namespace remedy::sandbox {

// One requirement of a label selector (k8s.io/apimachinery/pkg/labels.Requirement).
struct LabelRequirement {
  enum class Operator {
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
  };
  std::string key;
  Operator op = Operator::Exists;
  // Sorted and without duplicates, as sets.String keeps them.
  std::vector<std::string> values;

  bool matches(const json& labels) const;
  // "app=web", "tier in (a,b)", "!canary", as labels.Requirement.String.
  std::string toString() const;
};

class LabelSelector {
 public:
  // The selector that matches everything (an empty string, or `{}`).
  LabelSelector() = default;
  static LabelSelector everything() { return LabelSelector(); }
  static LabelSelector nothing();

  // The `?labelSelector=` syntax (labels.Parse): `a=b`, `a==b`, `a!=b`,
  // `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma separated,
  // whitespace between tokens ignored. Errors are 400 BadRequest with the
  // real parser's message, e.g. "unable to parse requirement: found '',
  // expected: identifier".
  static Result<LabelSelector> parse(const std::string& selector);

  // A metav1.LabelSelector object (metav1.LabelSelectorAsSelector):
  // matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist) are
  // ANDed. As in Kubernetes, a null selector matches nothing and an empty
  // `{}` selector matches everything; workloads rely on the difference
  // (a PodDisruptionBudget with no selector selects no pods).
  static Result<LabelSelector> fromLabelSelectorJson(const json& selector);

  // `labels` is metadata.labels (an object; null or missing means no labels).
  bool matches(const json& labels) const;
  bool matchesNothing() const { return nothing_; }
  bool matchesEverything() const { return !nothing_ && requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }
  // The canonical string form, requirements sorted by key ("" for
  // everything), as labels.Selector.String gives for Scale.status.selector.
  std::string toString() const;

 private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

// One term of a field selector: `field=value`, `field==value`, `field!=value`.
struct FieldRequirement {
  std::string field;
  bool equals = true;
  std::string value;
};

class FieldSelector {
 public:
  FieldSelector() = default;

  // The `?fieldSelector=` syntax (k8s.io/apimachinery/pkg/fields.ParseSelector):
  // comma-separated terms, `\,` `\=` `\\` escapes in values, no whitespace
  // trimming. `supportedFields` are the resource's selectable fields;
  // metadata.name and metadata.namespace are always selectable
  // (runtime.DefaultMetaV1FieldSelectorConversion). Any other field is a 400
  // "field label not supported: <field>".
  static Result<FieldSelector> parse(const std::string& selector,
                                     const std::vector<std::string>& supportedFields);

  // Reads each field by its dotted path in `object` (see fieldValue).
  bool matches(const json& object) const;
  // For fields whose value is computed rather than read (e.g. a boolean that
  // defaults to "false" when absent).
  bool matches(const std::function<std::string(const std::string& field)>& fieldValue) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }

  // The string value a field selector compares: strings as they are, numbers
  // and booleans as their JSON text, a missing field, null, object or array
  // as "" (fields.Set.Get returns "" for an absent field).
  static std::string fieldValue(const json& object, const std::string& dottedPath);

 private:
  std::vector<FieldRequirement> requirements_;
};

}  // namespace remedy::sandbox
