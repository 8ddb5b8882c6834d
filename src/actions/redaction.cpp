#include "actions/redaction.h"

#include <algorithm>
#include <cstdint>

namespace remedy::actions {
namespace {

// The length of the valid UTF-8 sequence at text[i], or 0 when invalid.
size_t utf8SequenceLength(const std::string& text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t length = 0;
  uint32_t min = 0;
  uint32_t code = 0;
  if ((c & 0xE0) == 0xC0) {
    length = 2;
    min = 0x80;
    code = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3;
    min = 0x800;
    code = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4;
    min = 0x10000;
    code = c & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

void addSecret(const std::string& value, std::vector<std::string>* secrets) {
  if (value.empty()) return;
  secrets->push_back(value);
  // Long words on their own: a server may echo the token of "Bearer TOKEN".
  size_t i = 0;
  while (i < value.size()) {
    size_t start = value.find_first_not_of(" \t", i);
    if (start == std::string::npos) break;
    size_t end = value.find_first_of(" \t", start);
    if (end == std::string::npos) end = value.size();
    if (end - start >= 8 && end - start < value.size()) {
      secrets->push_back(value.substr(start, end - start));
    }
    i = end;
  }
}

std::string redactSecrets(std::string text, std::vector<std::string> secrets) {
  static const std::string redacted = kRedacted;
  // Longest first: a secret that contains another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + redacted.size())) {
      text.replace(at, secret.size(), redacted);
    }
  }
  return text;
}

std::string utf8Excerpt(const std::string& text, size_t maxBytes) {
  static const std::string kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(text.size(), maxBytes));
  size_t i = 0;
  while (i < text.size()) {
    size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      if (out.size() + kReplacement.size() > maxBytes) break;
      out += kReplacement;
      ++i;
      continue;
    }
    if (out.size() + length > maxBytes) break;
    out.append(text, i, length);
    i += length;
  }
  return out;
}

std::string utf8Tail(const std::string& text, size_t maxBytes) {
  if (text.size() <= maxBytes) return text;
  size_t start = text.size() - maxBytes;
  // Continuation bytes at the cut belong to a character that began before it.
  size_t limit = std::min(text.size(), start + 3);
  while (start < limit && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return text.substr(start);
}

}  // namespace remedy::actions
