#include "intake/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace remedy::intake {
namespace {

constexpr size_t kMaxTokenBytes = 4096;

void sha256(std::string_view data, unsigned char out[32]) {
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out, &length, EVP_sha256(), nullptr);
}

std::string trimWhitespace(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool secretsEqual(std::string_view a, std::string_view b) {
  unsigned char da[32], db[32];
  sha256(a, da);
  sha256(b, db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

bool BearerTokenFile::Stamp::operator==(const Stamp& o) const {
  return device == o.device && inode == o.inode && size == o.size &&
         modified.tv_sec == o.modified.tv_sec && modified.tv_nsec == o.modified.tv_nsec;
}

BearerTokenFile::BearerTokenFile(std::string path) : path_(std::move(path)) {}

std::optional<std::string> BearerTokenFile::load() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return "bearer token file " + path_ + ": " + std::strerror(errno);
  }
  Stamp stamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  std::lock_guard<std::mutex> lock(mu_);
  return reload(stamp);
}

std::optional<std::string> BearerTokenFile::reload(const Stamp& stamp) {
  if (static_cast<size_t>(stamp.size) > kMaxTokenBytes) {
    return "bearer token file " + path_ + ": larger than 4 KiB";
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return "bearer token file " + path_ + ": cannot be read";
  std::stringstream content;
  content << in.rdbuf();
  std::string token = trimWhitespace(content.str());
  if (token.empty()) return "bearer token file " + path_ + ": empty";
  if (token.size() > kMaxTokenBytes) return "bearer token file " + path_ + ": larger than 4 KiB";
  token_ = std::move(token);
  stamp_ = stamp;
  return std::nullopt;
}

bool BearerTokenFile::matches(std::string_view presented) {
  struct stat st {};
  bool statted = ::stat(path_.c_str(), &st) == 0;
  std::lock_guard<std::mutex> lock(mu_);
  if (statted) {
    Stamp stamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    if (!stamp_ || !(stamp == *stamp_)) {
      if (auto error = reload(stamp)) {
        // Keep the last good token; do not re-read until the file changes again.
        stamp_ = stamp;
        spdlog::warn("intake: {}; the previous token stays in force", *error);
      } else {
        spdlog::info("intake: bearer token file {} read again", path_);
      }
    }
  }
  if (token_.empty() || presented.empty()) return false;
  return secretsEqual(presented, token_);
}

}  // namespace remedy::intake
