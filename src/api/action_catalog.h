// The action catalog: the action fields a step may carry (exactly one), the
// outputs each action promises to later steps, and which changes can be
// reverted. This is the contract between the API and src/actions: an action
// reports exactly these output keys, and validation rejects references to
// others (except for actions whose outputs are open-ended).
#pragma once

#include <string>
#include <vector>

namespace remedy::api {

struct ActionInfo {
  std::string field;                 // "scale", "postgres", ...
  std::vector<std::string> outputs;  // keys in steps.NAME.outputs
  bool openOutputs = false;          // outputs not known in advance (redis info)
  bool revertible = false;           // may carry `revert`
  // Also every key that starts with this and goes on (prometheusQuery's
  // label_NAME, one per label of its first sample); "" for none.
  std::string outputPrefix;
};

const std::vector<ActionInfo>& actionCatalog();
// nullptr when `field` is not an action field.
const ActionInfo* findAction(const std::string& field);
// Every action field, in catalog order.
std::vector<std::string> actionFields();

// The step phases `steps.NAME.phase` can take, and the values of `alert.status`.
const std::vector<std::string>& stepPhases();
const std::vector<std::string>& alertStatuses();

}  // namespace remedy::api
