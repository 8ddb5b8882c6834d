// The bearer token Alertmanager must send, read from a file (a mounted
// Secret) and read again whenever the file changes, so a rotated token
// takes effect without a restart. The token never leaves this class: it is
// not logged, not put in messages, and compared in constant time.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace remedy::intake {

class BearerTokenFile {
 public:
  explicit BearerTokenFile(std::string path);

  // Reads the file now. An error names the file and the problem, never its
  // content: missing, unreadable, empty, or larger than 4 KiB.
  std::optional<std::string> load();
  // True when `presented` (what followed "Bearer ") equals the token. The
  // file is read again first when its inode, size or modification time
  // changed (a Secret volume swaps a symlink); when that read fails, the
  // last good token stays in force.
  bool matches(std::string_view presented);
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};
    bool operator==(const Stamp& o) const;
  };
  std::optional<std::string> reload(const Stamp& stamp);  // with mu_ held

  const std::string path_;
  std::mutex mu_;  // guards token_, stamp_
  std::string token_;
  std::optional<Stamp> stamp_;
};

// Constant-time equality of two secrets: compares their SHA-256 digests
// with CRYPTO_memcmp, so neither the position of the first difference nor
// the token's length shows in the time taken.
bool secretsEqual(std::string_view a, std::string_view b);

}  // namespace remedy::intake
