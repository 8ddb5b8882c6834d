// remedyctl subcommands. Each takes its arguments (without the command name)
// and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace remedy::cli {

using Args = std::vector<std::string>;

int runSandbox(const Args& args);
int runValidate(const Args& args);
int runTest(const Args& args);
int runPause(const Args& args);
int runResume(const Args& args);
int runDrill(const Args& args);
int runRevert(const Args& args);
// What an on-call person reads (get_command.cpp, describe_command.cpp,
// report_command.cpp, watch_command.cpp).
int runGet(const Args& args);
int runDescribe(const Args& args);
int runReport(const Args& args);
int runWatch(const Args& args);
int runApprove(const Args& args);
int runApprovals(const Args& args);

}  // namespace remedy::cli
