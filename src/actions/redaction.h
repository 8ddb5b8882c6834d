// Text that leaves an action for the Incident's status, messages or another
// system: secret values replaced, valid UTF-8, bounded. Shared by every
// action that quotes text it did not write (response bodies, pod logs).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace remedy::actions {

inline constexpr const char* kRedacted = "[redacted]";

// `text` with every occurrence of each non-empty secret replaced by
// "[redacted]", the longest secret first.
std::string redactSecrets(std::string text, std::vector<std::string> secrets);

// The words of a secret value worth redacting on their own (the token of
// "Bearer TOKEN"), plus the value itself.
void addSecret(const std::string& value, std::vector<std::string>* secrets);

// At most `maxBytes` bytes of `text` as valid UTF-8: invalid bytes become
// U+FFFD and a multi-byte character is never cut in half. Outputs and
// messages end up in JSON (Incident status), which must be UTF-8.
std::string utf8Excerpt(const std::string& text, size_t maxBytes);

// The last `maxBytes` bytes of `text` (or fewer, to start on a character),
// as utf8Excerpt keeps the first.
std::string utf8Tail(const std::string& text, size_t maxBytes);

}  // namespace remedy::actions
