// A thread with a name (visible in top, gdb and core dumps) that is joined
// when its owner goes away, and that never lets an exception escape.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace remedy::kube {

class NamedThread {
 public:
  NamedThread() = default;
  // Linux keeps the first 15 characters of `name`.
  NamedThread(std::string name, std::function<void()> body);
  ~NamedThread() { join(); }
  NamedThread(NamedThread&& other) noexcept = default;
  NamedThread& operator=(NamedThread&& other) noexcept;
  NamedThread(const NamedThread&) = delete;
  NamedThread& operator=(const NamedThread&) = delete;

  // Idempotent; a no-op when called from the thread itself.
  void join();
  bool running() const { return thread_.joinable(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::thread thread_;
};

}  // namespace remedy::kube
