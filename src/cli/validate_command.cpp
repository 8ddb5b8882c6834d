#include "api/runbook_file_validator.h"
#include "cli/commands.h"

#include <cstdio>

namespace remedy::cli {

int runValidate(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fprintf(args.empty() ? stderr : stdout,
                 "usage: remedyctl validate FILE...\n\n"
                 "Validates Runbooks (and other remedy.dev objects) offline against the CRD\n"
                 "schemas and Remedy's semantic rules. Prints file:line: path: message for\n"
                 "each error, and file:line: warning: path: message for what is valid but\n"
                 "probably not meant (a when comparison that can only be false); exits 1\n"
                 "when there is any error, not for warnings.\n");
    return args.empty() ? 2 : 0;
  }
  size_t errors = 0;
  size_t warnings = 0;
  for (const auto& file : args) {
    for (const auto& e : api::validateManifestFile(file)) {
      std::printf("%s\n", e.str().c_str());
      ++(e.warning ? warnings : errors);
    }
  }
  if (warnings > 0) {
    std::fprintf(stderr, "%zu warning%s\n", warnings, warnings == 1 ? "" : "s");
  }
  if (errors > 0) {
    std::fprintf(stderr, "%zu error%s\n", errors, errors == 1 ? "" : "s");
    return 1;
  }
  return 0;
}

}  // namespace remedy::cli
