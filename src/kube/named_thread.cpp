#include "kube/named_thread.h"

#include <pthread.h>

#include <exception>

#include <spdlog/spdlog.h>

namespace remedy::kube {

NamedThread::NamedThread(std::string name, std::function<void()> body) : name_(std::move(name)) {
  thread_ = std::thread([name = name_, body = std::move(body)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    // An exception crossing a thread boundary would terminate the process;
    // report it and end this thread instead.
    try {
      body();
    } catch (const std::exception& e) {
      spdlog::error("thread {} ended with an exception: {}", name, e.what());
    } catch (...) {
      spdlog::error("thread {} ended with an unknown exception", name);
    }
  });
}

NamedThread& NamedThread::operator=(NamedThread&& other) noexcept {
  if (this != &other) {
    join();
    name_ = std::move(other.name_);
    thread_ = std::move(other.thread_);
  }
  return *this;
}

void NamedThread::join() {
  if (!thread_.joinable()) return;
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
    return;
  }
  thread_.join();
}

}  // namespace remedy::kube
