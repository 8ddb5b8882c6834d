// Every action family this build has, configured from the operator's options.
#pragma once

#include "actions/action_registry.h"
#include "actions/egress_policy.h"
#include "options.h"

#include <memory>
#include <string>
#include <vector>

namespace remedy::op {

// The egress policy of the web actions: --egress-allow (plus the host of
// --prometheus-url, which the administrator chose), --egress-deny, and the
// API server's own addresses (`apiServerAddresses`), denied whatever the
// allow-list says unless an allowed CIDR names them.
std::shared_ptr<const actions::EgressRules> egressRules(
    const Options& options, const std::vector<std::string>& apiServerAddresses);

std::unique_ptr<actions::ActionRegistry> buildActionRegistry(
    const Options& options, std::shared_ptr<const actions::EgressRules> egress);

}  // namespace remedy::op
