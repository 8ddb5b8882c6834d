// ObjectMeta rules shared by every resource: names, generated names, UIDs,
// timestamps, continue tokens, and CustomResourceDefinition validation.
#pragma once

#include "sandbox/api_error.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remedy::sandbox {

// The calendar time every timestamp the sandbox writes is taken from: the
// system clock, unless a process that drives time itself (`remedyctl test`,
// on a fake clock) sets a source before starting a sandbox. Process-wide;
// an empty function restores the system clock.
void setWallClock(std::function<std::chrono::system_clock::time_point()> source);
std::chrono::system_clock::time_point wallNow();
// RFC 3339 time in UTC with second precision, as metav1.Time serializes.
std::string nowRfc3339();
// RFC 3339 time `seconds` from now.
std::string rfc3339After(int64_t seconds);
// A random version-4 UUID.
std::string newUid();
// `n` characters of the alphabet generateName uses
// (k8s.io/apiserver/pkg/storage/names: no vowels, no confusable digits).
std::string randomSuffix(size_t n);

// How a resource's names are validated (pkg/apis/*/validation).
enum class NameRule {
  DnsSubdomain,  // most resources
  DnsLabel,      // namespaces
  PathSegment,   // RBAC objects: anything usable in a URL path ("system:discovery")
};

// metadata.name, labels and annotations.
std::vector<StatusCause> validateObjectMeta(const json& meta, NameRule nameRule);

// The continue token of a paginated list: the last key returned and the
// resourceVersion of the list.
std::string encodeContinue(const std::string& lastKey, int64_t resourceVersion);
std::optional<std::pair<std::string, int64_t>> decodeContinue(const std::string& token);

// Rules of apiextensions-apiserver/pkg/apis/apiextensions/validation that a
// CRD author meets first: name, group, names, scope, versions, schemas.
std::vector<StatusCause> validateCustomResourceDefinition(const json& crd);

}  // namespace remedy::sandbox
