// The Remedy kinds as kube::Resources, and the objects the engine reads.
#pragma once

#include "kube/resource.h"

namespace remedy::engine {

kube::Resource runbooks();
kube::Resource incidents();
kube::Resource approvals();
// Cluster-scoped.
kube::Resource runbookPolicies();

}  // namespace remedy::engine
