// Temporary directories and files for tests, removed afterwards.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace remedy::kube::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kube-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string write(const std::string& name, const std::string& content, int mode = 0644) const {
    std::string p = file(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    chmod(p.c_str(), mode);
    return p;
  }
  // Replaces a file atomically (as the kubelet rotates projected tokens).
  void replace(const std::string& name, const std::string& content) const {
    write(name + ".tmp", content);
    std::filesystem::rename(file(name + ".tmp"), file(name));
  }

 private:
  std::string path_;
};

}  // namespace remedy::kube::testing
