// remedy-operator's logs: one line per record on stderr, JSON by default
// ({"time","level","logger","msg"}, every string escaped) or plain text.
#pragma once

#include <string>

namespace remedy::op {

// format: "json" or "text"; level: trace, debug, info, warn, error.
void setupLogging(const std::string& format, const std::string& level);

}  // namespace remedy::op
