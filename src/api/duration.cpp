#include "api/duration.h"

#include <cstdint>

namespace remedy::api {
namespace {

constexpr int64_t kMaxMillis = int64_t{100} * 366 * 24 * 3600 * 1000;

Error durationError(std::string_view text) {
  return Error{"\"" + std::string(text) +
               "\" is not a duration such as \"30s\", \"5m\" or \"1h30m\""};
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  if (text.empty()) return durationError(text);
  // A double holds every whole millisecond below the 100-year cap exactly;
  // digits of a fraction beyond the ninth cannot matter and are ignored.
  double totalMillis = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 15) return durationError(text);
    double value = std::stod(std::string(text.substr(start, i - start)));
    if (i < text.size() && text[i] == '.') {
      ++i;
      size_t fracStart = i;
      double scale = 0.1;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (i - fracStart < 9) value += (text[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      if (i == fracStart) return durationError(text);
    }
    double unitMillis = 0;
    if (text.substr(i, 2) == "ms") {
      unitMillis = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unitMillis = 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unitMillis = 60 * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unitMillis = 3600 * 1000;
      ++i;
    } else {
      return durationError(text);
    }
    totalMillis += value * unitMillis;
    if (totalMillis > static_cast<double>(kMaxMillis)) {
      return Error{"\"" + std::string(text) + "\" is longer than 100 years"};
    }
  }
  return Duration(static_cast<int64_t>(totalMillis + 1e-6));
}

std::string formatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  int64_t hours = ms / 3600000;
  ms %= 3600000;
  int64_t minutes = ms / 60000;
  ms %= 60000;
  int64_t seconds = ms / 1000;
  ms %= 1000;
  if (hours) out += std::to_string(hours) + "h";
  if (minutes) out += std::to_string(minutes) + "m";
  if (seconds) out += std::to_string(seconds) + "s";
  if (ms) out += std::to_string(ms) + "ms";
  return out;
}

}  // namespace remedy::api
