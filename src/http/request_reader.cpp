#include "http/request_reader.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace remedy::http {

namespace {

// The longest chunk-size line (size and extensions) read.
constexpr size_t kMaxChunkLineBytes = 4096;
// Go's net/http/internal/chunked.go: each chunk may carry 16 bytes of
// framing plus as many as twice its data; beyond that, framing that adds up
// to more than 16 KiB (a body of one-byte chunks with long extensions) is
// refused.
constexpr int64_t kMaxChunkFramingExcess = 16 * 1024;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// RFC 9110 5.6.2 tchar.
bool isTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return isTokenChar(static_cast<unsigned char>(c));
  });
}

// Control characters other than HTAB may not appear in a field value
// (RFC 9110 5.5) nor in the request target.
bool hasControlChar(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

// True when the comma-separated list `value` holds `token` (any case).
bool hasToken(std::string_view value, std::string_view token) {
  while (true) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return true;
    }
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Content-Length (RFC 9112 6.3): digits only. Repeated fields arrive joined
// with ", " and are accepted only when every value is the same. Returns
// false for a malformed value; `tooLarge` for one above `max`.
bool parseContentLength(std::string_view text, size_t max, size_t& length, bool& tooLarge) {
  bool first = true;
  tooLarge = false;
  while (true) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (item.empty()) return false;
    size_t value = 0;
    bool big = false;
    for (char c : item) {
      if (c < '0' || c > '9') return false;
      if (value > (std::numeric_limits<size_t>::max() - 9) / 10) {
        big = true;
      } else {
        value = value * 10 + static_cast<size_t>(c - '0');
      }
    }
    if (big || value > max) {
      big = true;
      value = std::numeric_limits<size_t>::max();
    }
    if (!first && value != length) return false;
    length = value;
    tooLarge = big;
    first = false;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

// A chunk-size line (RFC 9112 7.1): 1*HEXDIG, then optional whitespace and
// chunk extensions (";name=value", ignored). Sizes above `max` set
// `tooLarge` without overflowing.
bool parseChunkSize(std::string_view line, size_t max, size_t& size, bool& tooLarge) {
  size_t i = 0;
  size = 0;
  tooLarge = false;
  while (i < line.size() && hexValue(line[i]) >= 0) {
    if (size > (max >> 4)) {
      tooLarge = true;
    } else {
      size = (size << 4) | static_cast<size_t>(hexValue(line[i]));
    }
    ++i;
  }
  if (i == 0) return false;
  if (size > max) tooLarge = true;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return i == line.size() || line[i] == ';';
}

}  // namespace

std::string percentDecode(std::string_view in, bool plusAsSpace) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size() && hexValue(in[i + 1]) >= 0 && hexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
      i += 2;
    } else if (c == '+' && plusAsSpace) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> Request::param(const std::string& name) const {
  // lower_bound, not find: among equal keys a multimap keeps insertion
  // order, and find may return any of them.
  auto it = query.lower_bound(name);
  if (it == query.end() || it->first != name) return std::nullopt;
  return it->second;
}

std::string Request::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

RequestReader::RequestReader(Source source, RequestLimits limits)
    : source_(std::move(source)), limits_(limits) {}

bool RequestReader::fill(size_t size) {
  char tmp[16384];
  while (buffer_.size() < size) {
    ssize_t n = source_(tmp, sizeof tmp);
    if (n <= 0) return false;
    buffer_.append(tmp, static_cast<size_t>(n));
  }
  return true;
}

RequestReader::LineResult RequestReader::readLine(std::string& line, size_t limit) {
  char tmp[16384];
  while (true) {
    // Search only what arrived since the last look (less the "\r" that may
    // end it), so a line that drips in byte by byte costs linear time.
    size_t from = scanned_ > 0 ? scanned_ - 1 : 0;
    size_t pos = buffer_.find("\r\n", from);
    if (pos != std::string::npos) {
      if (pos > limit) return LineResult::kTooLong;
      line.assign(buffer_, 0, pos);
      buffer_.erase(0, pos + 2);
      scanned_ = 0;
      return LineResult::kLine;
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > limit) return LineResult::kTooLong;
    ssize_t n = source_(tmp, sizeof tmp);
    if (n <= 0) return LineResult::kEnded;
    buffer_.append(tmp, static_cast<size_t>(n));
  }
}

RequestReader::Outcome RequestReader::read(Request& req, const ContinueWriter& writeContinue,
                                           const HeadersCheck& checkHeaders) {
  using Kind = Outcome::Kind;
  auto refuse = [](int status) { return Outcome{Kind::kRefused, status, true}; };
  const Outcome ended{Kind::kEnded, 0, true};

  // Every line up to the end of the header section counts against
  // maxHeaderBytes, the blank lines a client may send between requests too.
  size_t headerBytes = 0;
  std::string line;
  // The next line of the header section into `line`, or why there is none.
  auto headerLine = [&]() -> std::optional<Outcome> {
    size_t budget = limits_.maxHeaderBytes > headerBytes ? limits_.maxHeaderBytes - headerBytes : 0;
    switch (readLine(line, budget)) {
      case LineResult::kEnded:
        return ended;
      case LineResult::kTooLong:
        return refuse(431);
      case LineResult::kLine:
        break;
    }
    headerBytes += line.size() + 2;
    if (headerBytes > limits_.maxHeaderBytes) return refuse(431);
    return std::nullopt;
  };
  do {
    if (auto stop = headerLine()) return *stop;
  } while (line.empty());

  // method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return refuse(400);
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string version = line.substr(sp2 + 1);
  bool targetOk =
      !req.target.empty() && std::none_of(req.target.begin(), req.target.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      });
  if (!isToken(req.method) || !targetOk) return refuse(400);
  if (version.size() != 8 || version.compare(0, 7, "HTTP/1.") != 0 ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return refuse(400);
  }

  size_t fields = 0;
  while (true) {
    if (auto stop = headerLine()) return *stop;
    if (line.empty()) break;
    if (++fields > limits_.maxHeaderFields) return refuse(431);
    size_t colon = line.find(':');
    if (colon == std::string::npos) return refuse(400);
    // No whitespace between the name and the colon, and no obsolete line
    // folding (RFC 9112 5.1, 5.2): both are ways to smuggle a field past
    // one reader and not another.
    std::string_view name(line.data(), colon);
    if (!isToken(name)) return refuse(400);
    std::string_view value = trim(std::string_view(line).substr(colon + 1));
    if (hasControlChar(value)) return refuse(400);
    auto [it, inserted] = req.headers.emplace(lower(std::string(name)), std::string(value));
    if (!inserted) {
      it->second += ", ";
      it->second += value;
    }
  }

  size_t q = req.target.find('?');
  req.path = percentDecode(std::string_view(req.target).substr(0, q), false);
  if (q != std::string::npos) {
    req.rawQuery = req.target.substr(q + 1);
    size_t start = 0;
    while (start <= req.rawQuery.size()) {
      size_t amp = req.rawQuery.find('&', start);
      if (amp == std::string::npos) amp = req.rawQuery.size();
      std::string_view kv(req.rawQuery.data() + start, amp - start);
      if (!kv.empty()) {
        size_t eq = kv.find('=');
        std::string k = percentDecode(kv.substr(0, eq), true);
        std::string v = eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1), true);
        req.query.emplace(std::move(k), std::move(v));
      }
      start = amp + 1;
    }
  }

  // Before anything of the body is read or answered (not even its framing
  // or a 100 Continue): a client refused here never gets to send it.
  if (checkHeaders && !checkHeaders(req)) return Outcome{Kind::kStopped, 0, true};

  Outcome outcome{Kind::kRequest, 0, false};
  outcome.closeAfter = version == "HTTP/1.0" || hasToken(req.header("connection"), "close");
  auto te = req.headers.find("transfer-encoding");
  auto cl = req.headers.find("content-length");
  bool expectContinue = lower(req.header("expect")) == "100-continue";
  if (te != req.headers.end()) {
    // Only chunked is implemented (Go's server answers 501 to the rest too).
    if (lower(te->second) != "chunked") return refuse(501);
    // With both, Transfer-Encoding wins and the connection must close after
    // the answer (RFC 9112 6.3).
    if (cl != req.headers.end()) outcome.closeAfter = true;
    if (expectContinue && !writeContinue()) return ended;
    if (int status = readChunkedBody(req, headerBytes); status != 0) {
      return status < 0 ? ended : refuse(status);
    }
  } else if (cl != req.headers.end()) {
    size_t length = 0;
    bool tooLarge = false;
    if (!parseContentLength(cl->second, limits_.maxBodyBytes, length, tooLarge)) return refuse(400);
    if (tooLarge) return refuse(413);
    if (length > 0) {
      if (expectContinue && !writeContinue()) return ended;
      if (!fill(length)) return ended;
      req.body.assign(buffer_, 0, length);
      buffer_.erase(0, length);
    }
  }
  scanned_ = 0;
  return outcome;
}

// 0 when the body was read, -1 when the connection ended, else the status
// that refuses it.
int RequestReader::readChunkedBody(Request& req, size_t& headerBytes) {
  std::string line;
  int64_t excess = 0;
  while (true) {
    switch (readLine(line, kMaxChunkLineBytes)) {
      case LineResult::kEnded:
        return -1;
      case LineResult::kTooLong:
        return 400;
      case LineResult::kLine:
        break;
    }
    size_t size = 0;
    bool tooLarge = false;
    if (!parseChunkSize(line, limits_.maxBodyBytes, size, tooLarge)) return 400;
    if (tooLarge || size > limits_.maxBodyBytes - req.body.size() || size > SIZE_MAX - 2) {
      return 413;
    }
    excess += static_cast<int64_t>(line.size()) + 2;
    excess -= 16 + 2 * static_cast<int64_t>(size);
    excess = std::max<int64_t>(excess, 0);
    if (excess > kMaxChunkFramingExcess) return 400;
    if (size == 0) break;
    // size <= maxBodyBytes, so size + 2 cannot wrap.
    if (!fill(size + 2)) return -1;
    if (buffer_[size] != '\r' || buffer_[size + 1] != '\n') return 400;
    req.body.append(buffer_, 0, size);
    buffer_.erase(0, size + 2);
  }
  // Trailer fields are read and dropped; they share the header budget.
  while (true) {
    size_t budget = limits_.maxHeaderBytes > headerBytes ? limits_.maxHeaderBytes - headerBytes : 0;
    switch (readLine(line, budget)) {
      case LineResult::kEnded:
        return -1;
      case LineResult::kTooLong:
        return 431;
      case LineResult::kLine:
        break;
    }
    headerBytes += line.size() + 2;
    if (headerBytes > limits_.maxHeaderBytes) return 431;
    if (line.empty()) return 0;
  }
}

}  // namespace remedy::http
