// Every action family this build has, configured from the operator's options.
#pragma once

#include "actions/action_registry.h"
#include "options.h"

#include <memory>

namespace remedy::op {

std::unique_ptr<actions::ActionRegistry> buildActionRegistry(const Options& options);

}  // namespace remedy::op
