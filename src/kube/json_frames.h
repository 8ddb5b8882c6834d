// Splits a byte stream of concatenated JSON objects (a watch response body)
// into one text per object, whatever the chunk boundaries, as the API
// server's json.Decoder framing allows objects separated by any whitespace.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace remedy::kube {

class JsonFrames {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  // The next complete top-level object, if one has fully arrived.
  std::optional<std::string> next();
  // Bytes received but not yet part of a complete object.
  size_t pending() const { return buffer_.size(); }

 private:
  std::string buffer_;
  size_t scanned_ = 0;  // bytes of buffer_ already scanned
  int depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
  size_t start_ = std::string::npos;  // where the current object began
};

}  // namespace remedy::kube
