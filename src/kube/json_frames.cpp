#include "kube/json_frames.h"

namespace remedy::kube {

std::optional<std::string> JsonFrames::next() {
  for (; scanned_ < buffer_.size(); ++scanned_) {
    char c = buffer_[scanned_];
    if (inString_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inString_ = false;
      }
      continue;
    }
    if (c == '"') {
      inString_ = true;
    } else if (c == '{' || c == '[') {
      if (depth_ == 0) start_ = scanned_;
      ++depth_;
    } else if ((c == '}' || c == ']') && depth_ > 0) {
      --depth_;
      if (depth_ == 0) {
        std::string frame = buffer_.substr(start_, scanned_ + 1 - start_);
        buffer_.erase(0, scanned_ + 1);
        scanned_ = 0;
        start_ = std::string::npos;
        return frame;
      }
    }
  }
  if (depth_ == 0) {
    // Only whitespace (or garbage) outside objects: drop it.
    buffer_.clear();
    scanned_ = 0;
  }
  return std::nullopt;
}

}  // namespace remedy::kube
