// JSON pointers (RFC 6901): "/spec/steps/0/name", with "~0" for '~' and
// "~1" for '/' in a token.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remedy::formats {

// One token escaped for a pointer: '~' as "~0", '/' as "~1".
std::string escapeJsonPointerToken(std::string_view token);

// One token unescaped as evanphx/json-patch (the API server's JSON patch)
// does, left to right: "~1" is '/', "~0" is '~', any other '~' stays.
std::string unescapeJsonPointerToken(std::string_view token);

// The tokens of a pointer; "" is the whole document (no tokens). nullopt
// when it is not a pointer: not empty and not starting with '/', or a '~'
// not followed by '0' or '1'.
std::optional<std::vector<std::string>> parseJsonPointer(std::string_view pointer);

}  // namespace remedy::formats
