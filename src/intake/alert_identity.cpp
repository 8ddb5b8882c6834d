#include "intake/alert_identity.h"

#include <openssl/evp.h>

#include <cstdio>

namespace remedy::intake {
namespace {

// prometheus/common model/fnv.go.
constexpr uint64_t kFnvOffset64 = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime64 = 1099511628211ULL;
constexpr unsigned char kSeparatorByte = 255;  // model.SeparatorByte

uint64_t fnvAdd(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime64;
  }
  return h;
}

uint64_t fnvAddByte(uint64_t h, unsigned char c) {
  h ^= c;
  h *= kFnvPrime64;
  return h;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLowerAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Parses exactly `n` digits at `pos`.
bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!isDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool validDate(int y, int m, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string alertmanagerFingerprint(const LabelSet& labels) {
  uint64_t h = kFnvOffset64;                  // also the fingerprint of the empty set
  for (const auto& [name, value] : labels) {  // std::map: sorted by name
    h = fnvAdd(h, name);
    h = fnvAddByte(h, kSeparatorByte);
    h = fnvAdd(h, value);
    h = fnvAddByte(h, kSeparatorByte);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::optional<Timestamp> parseTimestamp(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' ||
      !digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000000;
    while (pos < s.size() && isDigit(s[pos])) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  Timestamp t;
  t.seconds = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
              h * 3600 + mi * 60 + sec - offset;
  t.nanos = static_cast<int32_t>(nanos);
  return t;
}

std::string canonicalTimestamp(const Timestamp& t) {
  int64_t days = t.seconds / 86400;
  int64_t rest = t.seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y), m, d,
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  std::string out = buf;
  if (t.nanos > 0) {
    std::snprintf(buf, sizeof buf, ".%09d", t.nanos);
    std::string fraction = buf;
    while (fraction.back() == '0') fraction.pop_back();
    out += fraction;
  }
  return out + "Z";
}

bool isZeroTime(const Timestamp& t) {
  static const Timestamp kZero = *parseTimestamp("0001-01-01T00:00:00Z");
  return t == kZero;
}

std::string incidentName(const std::string& alertName, const std::string& fingerprint,
                         const Timestamp& startsAt) {
  constexpr size_t kMaxPrefix = 40;
  std::string prefix;
  char previous = 0;
  for (char c : alertName) {
    if (prefix.size() >= kMaxPrefix) break;
    bool upper = c >= 'A' && c <= 'Z';
    char lower = upper ? static_cast<char>(c - 'A' + 'a') : c;
    if (isLowerAlnum(lower)) {
      // A lower-to-upper boundary becomes a dash: KubePodCrashLooping -> kube-pod-crash-looping.
      if (upper && isLowerAlnum(previous) && !prefix.empty()) prefix.push_back('-');
      prefix.push_back(lower);
    } else if (!prefix.empty() && prefix.back() != '-') {
      prefix.push_back('-');
    }
    previous = c;
  }
  if (prefix.size() > kMaxPrefix) prefix.resize(kMaxPrefix);
  while (!prefix.empty() && prefix.back() == '-') prefix.pop_back();
  if (prefix.empty()) prefix = "alert";
  // The separator cannot occur in a fingerprint Alertmanager computes.
  std::string hash = sha256Hex(fingerprint + "\n" + canonicalTimestamp(startsAt)).substr(0, 16);
  return prefix + "-" + hash;
}

bool isLabelValue(std::string_view v) {
  if (v.empty()) return true;
  if (v.size() > 63 || !isAlnum(v.front()) || !isAlnum(v.back())) return false;
  for (char c : v) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool isDnsLabel(std::string_view v) {
  if (v.empty() || v.size() > 63 || !isLowerAlnum(v.front()) || !isLowerAlnum(v.back())) {
    return false;
  }
  for (char c : v) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace remedy::intake
