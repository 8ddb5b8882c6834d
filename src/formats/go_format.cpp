#include "formats/go_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace remedy::formats {
namespace {

struct Digits {
  std::string digits;  // no leading or trailing zeros; empty for zero
  int point = 0;       // the decimal point's place: value = 0.digits * 10^point
};

// The shortest digits that round-trip `f` (f > 0, finite) at bitSize.
Digits shortest(double f, int bitSize) {
  if (bitSize == 32) f = static_cast<float>(f);
  char buf[48];
  int maxPrecision = bitSize == 32 ? 9 : 17;
  for (int precision = 1; precision <= maxPrecision; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, f);
    double back = std::strtod(buf, nullptr);
    bool same = bitSize == 32 ? static_cast<float>(back) == static_cast<float>(f) : back == f;
    if (same) break;
  }
  std::string s(buf);
  size_t e = s.find('e');
  Digits d;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] >= '0' && s[i] <= '9') d.digits += s[i];
  }
  while (d.digits.size() > 1 && d.digits.back() == '0') d.digits.pop_back();
  d.point = std::atoi(s.c_str() + e + 1) + 1;
  return d;
}

std::string formE(const Digits& d) {
  std::string out = d.digits.empty() ? "0" : d.digits.substr(0, 1);
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  int exp = d.digits.empty() ? 0 : d.point - 1;
  char buf[16];
  std::snprintf(buf, sizeof buf, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
  return out + buf;
}

std::string formF(const Digits& d) {
  if (d.digits.empty()) return "0";
  if (d.point <= 0) return "0." + std::string(static_cast<size_t>(-d.point), '0') + d.digits;
  size_t intDigits = static_cast<size_t>(d.point);
  if (d.digits.size() <= intDigits) {
    return d.digits + std::string(intDigits - d.digits.size(), '0');
  }
  return d.digits.substr(0, intDigits) + "." + d.digits.substr(intDigits);
}

void appendHex(std::string& out, const char* prefix, unsigned value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%0*x", prefix, width, value);
  out += buf;
}

// The length of the UTF-8 sequence at s[i], or 0 when it is not valid UTF-8
// (overlong forms, surrogates and values above U+10FFFF included).
size_t utf8Length(std::string_view s, size_t i, unsigned* rune) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned r = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    r = (r << 6) | (byte(i + k) & 0x3F);
  }
  static const unsigned minimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < minimum[n] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  *rune = r;
  return n;
}

}  // namespace

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    unsigned rune = 0;
    size_t n = utf8Length(s, i, &rune);
    if (n == 0) {
      appendHex(out, "\\x", c, 2);
      ++i;
      continue;
    }
    if (n > 1) {
      if ((rune >= 0x80 && rune <= 0x9F) || rune == 0xAD) {
        appendHex(out, "\\u", rune, 4);
      } else {
        out.append(s.substr(i, n));
      }
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          appendHex(out, "\\x", c, 2);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string goFormatFloat(double f, char format, int bitSize) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  std::string sign = std::signbit(f) ? "-" : "";
  Digits d = f == 0 ? Digits{} : shortest(std::fabs(f), bitSize);
  if (format == 'g') {
    int exp = d.digits.empty() ? 0 : d.point - 1;
    format = exp < -4 || exp >= 6 ? 'e' : 'f';
  }
  return sign + (format == 'e' ? formE(d) : formF(d));
}

std::string goFloat(double f) { return goFormatFloat(f, 'g', 64); }

std::string goJsonFloat(double f) {
  double abs = std::fabs(f);
  bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  std::string out = goFormatFloat(f, exponent ? 'e' : 'f', 64);
  size_t n = out.size();
  if (exponent && n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
    out.erase(n - 2, 1);
  }
  return out;
}

}  // namespace remedy::formats
