// Actions by step field. The engine asks the registry; a field without an
// action (an action family not linked in) is a permanent failure of the step.
#pragma once

#include "actions/action.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace remedy::actions {

class ActionRegistry {
 public:
  void add(std::unique_ptr<Action> action);
  // nullptr when no action implements `field`.
  Action* find(const std::string& field) const;
  std::vector<std::string> fields() const;

 private:
  std::map<std::string, std::unique_ptr<Action>> actions_;
};

}  // namespace remedy::actions
