#include "formats/base64.h"

#include <cstdint>

namespace remedy::formats {
namespace {

const char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(n >> shift) & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (rest == 2) out += alphabet[(n >> 6) & 63];
    if (pad) out.append(rest == 2 ? 1 : 2, '=');
  }
  return out;
}

int valueOf(char c, const char* alphabet) {
  for (int v = 0; v < 64; ++v) {
    if (alphabet[v] == c) return v;
  }
  return -1;
}

Result<std::string> corrupt(size_t at) {
  return Error{"illegal base64 data at input byte " + std::to_string(at)};
}

// encoding/base64 (*Encoding).decodeQuantum, quantum after quantum: '\r'
// and '\n' are skipped anywhere; with padding a last quantum of two or
// three symbols must be padded and nothing but newlines may follow; without,
// it may stand as it is. Leftover bits are ignored (Go's encodings are not
// strict).
Result<std::string> decode(std::string_view src, const char* alphabet, bool pad) {
  std::string out;
  out.reserve(src.size() / 4 * 3 + 3);
  size_t si = 0;
  auto skipNewlines = [&] {
    while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
  };
  while (true) {
    uint32_t dbuf[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool last = false;
    for (int j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        if (j == 1 || pad) return corrupt(si - static_cast<size_t>(j));
        dlen = j;
        last = true;
        break;
      }
      char in = src[si++];
      int v = valueOf(in, alphabet);
      if (v >= 0) {
        dbuf[j] = static_cast<uint32_t>(v);
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (!pad || in != '=' || j < 2) return corrupt(si - 1);
      if (j == 2) {
        // "==" is expected; the first '=' is read.
        skipNewlines();
        if (si == src.size()) return corrupt(src.size());
        if (src[si] != '=') return corrupt(si - 1);
        ++si;
      }
      skipNewlines();
      if (si < src.size()) return corrupt(si);  // trailing garbage
      dlen = j;
      last = true;
      break;
    }
    uint32_t val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3];
    out += static_cast<char>(val >> 16);
    if (dlen >= 3) out += static_cast<char>(val >> 8);
    if (dlen == 4) out += static_cast<char>(val);
    if (last) return out;
  }
}

}  // namespace

std::string encodeBase64(std::string_view data) { return encode(data, kStd, true); }
std::string encodeBase64Url(std::string_view data) { return encode(data, kUrl, false); }

Result<std::string> decodeBase64(std::string_view text) { return decode(text, kStd, true); }
Result<std::string> decodeBase64Url(std::string_view text) { return decode(text, kUrl, false); }

}  // namespace remedy::formats
