#include "formats/rfc3339.h"

#include <cstdio>
#include <limits>

namespace remedy::formats {
namespace {

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian;
// H. Hinnant's algorithms), so no time zone or time_t range is involved.
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year, month, day;
};

Civil civilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp + (mp < 10 ? 3 : -9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t daysIn(int64_t month, int64_t year) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[month - 1] + (month == 2 && leap(year) ? 1 : 0);
}

std::string format(WallTime t, bool micro) {
  auto since = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  int64_t seconds = since / 1000000;
  int64_t micros = since % 1000000;
  if (micros < 0) {  // floor for times before 1970
    micros += 1000000;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  Civil c = civilFromDays(days);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(c.year), static_cast<long long>(c.month),
                        static_cast<long long>(c.day), static_cast<long long>(rest / 3600),
                        static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (micro) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  return out + "Z";
}

}  // namespace

std::string formatRfc3339(WallTime t) { return format(t, false); }
std::string formatRfc3339Micro(WallTime t) { return format(t, true); }

std::optional<WallTime> parseRfc3339(std::string_view s) {
  // time/format_rfc3339.go parseRFC3339.
  bool ok = true;
  auto number = [&](size_t from, size_t to, int64_t min, int64_t max) -> int64_t {
    int64_t x = 0;
    for (size_t i = from; i < to; ++i) {
      if (s[i] < '0' || s[i] > '9') {
        ok = false;
        return min;
      }
      x = x * 10 + (s[i] - '0');
    }
    if (x < min || x > max) {
      ok = false;
      return min;
    }
    return x;
  };
  if (s.size() < 19) return std::nullopt;
  int64_t year = number(0, 4, 0, 9999);
  int64_t month = number(5, 7, 1, 12);
  int64_t day = number(8, 10, 1, daysIn(month, year));
  int64_t hour = number(11, 13, 0, 23);
  int64_t minute = number(14, 16, 0, 59);
  int64_t second = number(17, 19, 0, 59);
  if (!ok || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos + 1 < s.size() && s[pos] == '.' && s[pos + 1] >= '0' && s[pos + 1] <= '9') {
    ++pos;
    int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;  // digits past nanoseconds are dropped
      scale /= 10;
      ++pos;
    }
  }
  std::string_view zone = s.substr(pos);
  int64_t offset = 0;
  if (zone != "Z") {
    if (zone.size() != 6) return std::nullopt;
    int64_t zoneHour = number(pos + 1, pos + 3, 0, 23);
    int64_t zoneMinute = number(pos + 4, pos + 6, 0, 59);
    if (!ok || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
    offset = (zoneHour * 60 + zoneMinute) * 60 * (zone[0] == '-' ? -1 : 1);
  }
  int64_t seconds =
      daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  // WallTime counts nanoseconds in 64 bits: about 1678 to 2262.
  using Limits = std::numeric_limits<WallTime::rep>;
  int64_t perSecond = WallTime::period::den / WallTime::period::num;
  if (seconds >= Limits::max() / perSecond || seconds <= Limits::min() / perSecond) {
    return std::nullopt;
  }
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(seconds) +
                                                                 std::chrono::nanoseconds(nanos)));
}

}  // namespace remedy::formats
