// remedyctl subcommands. Each takes its arguments (without the command name)
// and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace remedy::cli {

using Args = std::vector<std::string>;

int runSandbox(const Args& args);
int runValidate(const Args& args);

}  // namespace remedy::cli
