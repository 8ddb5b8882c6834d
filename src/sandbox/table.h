// meta.k8s.io/v1 Table output: what `kubectl get` prints. Built-in kinds get
// the columns the real server's printers produce (pkg/printers/internalversion);
// custom resources get Name, their additionalPrinterColumns, and Age when they
// declare none (apiextensions-apiserver/pkg/registry/customresource/tableconvertor).
#pragma once

#include "sandbox/resource_type.h"

#include <cstdint>
#include <string>
#include <vector>

namespace remedy::sandbox {

// includeObject: "None", "Metadata" (the default) or "Object".
json toTable(const ResourceType& type, const std::vector<json>& objects,
             const std::string& includeObject, const json& listMetadata);

// duration.HumanDuration of k8s.io/apimachinery/pkg/util/duration.
std::string humanDuration(int64_t seconds);
// Seconds since an RFC 3339 timestamp (0 when unparsable).
int64_t secondsSince(const std::string& rfc3339);

}  // namespace remedy::sandbox
