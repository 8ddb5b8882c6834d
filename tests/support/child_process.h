// Real servers for tests (PostgreSQL, Redis, Prometheus, Alertmanager, the
// operator binary): a child process started on loopback, its output kept in a
// log file, and stopped (with its whole process group) when the test ends.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace remedy::testing {

// A TCP port on 127.0.0.1 that nothing is bound to now, chosen at random
// below the kernel's ephemeral range (net.ipv4.ip_local_port_range). A port
// the kernel picks for bind(0) comes from that range, which every outgoing
// connection draws from too: between this call and the server's bind, a
// client socket of a test running in parallel could take it (the server then
// fails with "Address already in use").
inline int freeLoopbackPort() {
  int ephemeralLow = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> ephemeralLow;
  const int low = 10000;
  const int high = std::max(low + 1000, ephemeralLow) - 1;
  static thread_local std::mt19937 random(std::random_device{}() ^
                                          static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = pick(random);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (bound) return port;
  }
  throw std::runtime_error("no free loopback port below " + std::to_string(ephemeralLow));
}

inline bool loopbackPortOpen(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

// Polls `condition` every 20 ms until it holds or `timeout` passes.
inline bool waitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// Servers that refuse to run as root (PostgreSQL) run as this user when the
// tests run as root; otherwise as the current user.
inline std::optional<std::string> unprivilegedUser(const std::string& preferred = "postgres") {
  if (::geteuid() != 0) return std::nullopt;
  if (::getpwnam(preferred.c_str()) != nullptr) return preferred;
  if (::getpwnam("nobody") != nullptr) return std::string("nobody");
  return std::nullopt;
}

// A directory under $TMPDIR (or /tmp), removed by the destructor, owned by
// `user` when given.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix, const std::optional<std::string>& user = {}) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern);
    path_ = buffer.data();
    ::chmod(path_.c_str(), 0700);
    if (user) {
      if (passwd* pw = ::getpwnam(user->c_str())) ::chown(path_.c_str(), pw->pw_uid, pw->pw_gid);
    }
  }
  ~TempDir() {
    if (!path_.empty() && std::getenv("REMEDY_KEEP_TEST_DIRS") == nullptr) {
      std::string command = "rm -rf '" + path_ + "'";
      if (std::system(command.c_str()) != 0) {
      }
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is the program's path
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::optional<std::string> user;         // run as this user (needs root)
  std::string workingDirectory;
  std::string logPath;  // stdout and stderr; /dev/null when empty
};

// A child process in its own process group. stop() (and the destructor)
// sends SIGTERM, then SIGKILL after `grace`.
class ChildProcess {
 public:
  ChildProcess() = default;
  explicit ChildProcess(ProcessOptions options) { start(std::move(options)); }
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void start(ProcessOptions options) {
    options_ = std::move(options);
    uid_t uid = 0;
    gid_t gid = 0;
    if (options_.user) {
      passwd* pw = ::getpwnam(options_.user->c_str());
      if (pw == nullptr) throw std::runtime_error("no user " + *options_.user);
      uid = pw->pw_uid;
      gid = pw->pw_gid;
    }
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::setpgid(0, 0);
      std::string log = options_.logPath.empty() ? "/dev/null" : options_.logPath;
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      if (options_.user) {
        if (::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
      }
      if (!options_.workingDirectory.empty() && ::chdir(options_.workingDirectory.c_str()) != 0) {
        ::_exit(126);
      }
      for (const auto& [key, value] : options_.env) ::setenv(key.c_str(), value.c_str(), 1);
      std::vector<char*> args;
      for (auto& a : options_.argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    pid_ = pid;
    group_ = pid;
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exitStatus_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGKILL, no grace: what a crash looks like.
  void kill() { signalAndReap(SIGKILL, std::chrono::seconds(10)); }

  // SIGTERM, then SIGKILL when the process outlives `grace`. Returns the wait status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exitStatus_;
    if (!signalAndReap(SIGTERM, grace)) signalAndReap(SIGKILL, std::chrono::seconds(10));
    return exitStatus_;
  }

  // Sends `signal`; waits up to `timeout` for the exit. True when it exited.
  bool signalAndReap(int signal, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return true;
    ::kill(-pid_, signal);
    ::kill(pid_, signal);
    bool exited = waitUntil([&] { return !running(); }, timeout);
    if (exited && group_ > 0) ::kill(-group_, SIGKILL);  // leftovers in the group
    return exited;
  }

  pid_t pid() const { return pid_; }
  int exitStatus() const { return exitStatus_; }

  std::string log() const {
    if (options_.logPath.empty()) return "";
    std::ifstream in(options_.logPath);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  ProcessOptions options_;
  pid_t pid_ = -1;
  pid_t group_ = -1;  // kept after the leader is reaped, to clear the group
  int exitStatus_ = -1;
};

}  // namespace remedy::testing
