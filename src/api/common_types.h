// Types shared by the three kinds: object metadata, conditions, references
// to objects and to Secret keys.
#pragma once

#include "api/json_fields.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace remedy::api {

inline constexpr const char* kGroup = "remedy.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "remedy.dev/v1alpha1";

// The parts of metav1.ObjectMeta Remedy reads; the rest (managedFields,
// ownerReferences, ...) round-trips through unknownFields.
struct ObjectMeta {
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  std::optional<std::string> uid;
  std::optional<std::string> resourceVersion;
  std::optional<int64_t> generation;
  std::optional<std::string> creationTimestamp;
  std::optional<std::string> deletionTimestamp;
  std::optional<std::map<std::string, std::string>> labels;
  std::optional<std::map<std::string, std::string>> annotations;
  std::optional<std::vector<std::string>> finalizers;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("namespace", s.namespace_);
    v("uid", s.uid);
    v("resourceVersion", s.resourceVersion);
    v("generation", s.generation);
    v("creationTimestamp", s.creationTimestamp);
    v("deletionTimestamp", s.deletionTimestamp);
    v("labels", s.labels);
    v("annotations", s.annotations);
    v("finalizers", s.finalizers);
  }
};

enum class ConditionStatus { kTrue, kFalse, kUnknown };
template <>
struct EnumTraits<ConditionStatus> {
  static constexpr std::pair<ConditionStatus, const char*> kNames[] = {
      {ConditionStatus::kTrue, "True"},
      {ConditionStatus::kFalse, "False"},
      {ConditionStatus::kUnknown, "Unknown"}};
};

// metav1.Condition.
struct Condition {
  std::optional<std::string> type;
  std::optional<ConditionStatus> status;
  std::optional<int64_t> observedGeneration;
  std::optional<std::string> lastTransitionTime;
  std::optional<std::string> reason;
  std::optional<std::string> message;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v("status", s.status);
    v("observedGeneration", s.observedGeneration);
    v("lastTransitionTime", s.lastTransitionTime);
    v("reason", s.reason);
    v("message", s.message);
  }
};

// The condition of `type`, or nullptr.
const Condition* findCondition(const std::optional<std::vector<Condition>>& conditions,
                               const std::string& type);

struct SecretKeySelector {
  std::optional<std::string> name;
  std::optional<std::string> key;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("key", s.key);
  }
};

// `{secretKeyRef: {...}}`, the shape of connection, urlFrom and valueFrom.
struct SecretSource {
  std::optional<SecretKeySelector> secretKeyRef;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("secretKeyRef", s.secretKeyRef);
  }
};

// An object an action works on. kind defaults to Deployment; see
// defaultApiVersion for apiVersion. name and namespace are templates.
// Instead of a name, `pod` (a template, such as `{{ alert.labels.pod }}`) with
// `owner` (Deployment or StatefulSet) names the workload that controls that
// pod, found through ownerReferences when the step first starts.
struct ObjectTarget {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  std::optional<std::string> pod;
  std::optional<std::string> owner;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("apiVersion", s.apiVersion);
    v("kind", s.kind);
    v("name", s.name);
    v("namespace", s.namespace_);
    v("pod", s.pod);
    v("owner", s.owner);
  }

  std::string effectiveKind() const { return kind.value_or("Deployment"); }
  // The apiVersion to use: the one given, or the default for the kind, or
  // nullopt when the kind has no default (validation reports it).
  std::optional<std::string> effectiveApiVersion() const;
};

// The apiVersion a well-known kind defaults to, or nullopt.
std::optional<std::string> defaultApiVersion(const std::string& kind);

// The shape every remedy.dev kind shares: apiVersion, kind, metadata, spec,
// status, and the fields this version does not know (kept for round trips).
template <typename Derived, typename Spec, typename Status>
struct KubeObject {
  std::optional<std::string> apiVersion;
  std::optional<std::string> kind;
  std::optional<ObjectMeta> metadata;
  std::optional<Spec> spec;
  std::optional<Status> status;
  nlohmann::json unknownFields = nlohmann::json::object();

  template <typename S, typename V>
  static void fields(S& s, V& v) {
    v("apiVersion", s.apiVersion);
    v("kind", s.kind);
    v("metadata", s.metadata);
    v("spec", s.spec);
    v("status", s.status);
  }

  static Result<Derived> fromJson(const nlohmann::json& j) { return api::fromJson<Derived>(j); }
  nlohmann::json toJson() const { return api::toJson(static_cast<const Derived&>(*this)); }
};

}  // namespace remedy::api
