#include "kube/credentials.h"

#include "kube/base64.h"
#include "kube/time_format.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace remedy::kube {
namespace {

std::string trimToken(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? "" : s.substr(start);
}

std::string execInfo(const ExecConfig& exec, const Config& config) {
  json spec = {{"interactive", false}};
  if (exec.provideClusterInfo) {
    json cluster = {{"server", config.server}};
    if (!config.caPem.empty()) cluster["certificate-authority-data"] = encodeBase64(config.caPem);
    if (config.insecureSkipTlsVerify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.tlsServerName.empty()) cluster["tls-server-name"] = config.tlsServerName;
    spec["cluster"] = cluster;
  }
  json info = {{"apiVersion", exec.apiVersion}, {"kind", "ExecCredential"}, {"spec", spec}};
  return info.dump();
}

struct ProcessResult {
  int exitCode = -1;
  std::string out;
  std::string error;  // could not start
};

// Runs a command with extra environment, stdin from /dev/null and stderr
// passed through (the plugin may print guidance for a human), capturing stdout.
ProcessResult runProcess(const std::string& command, const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& extraEnv) {
  ProcessResult result;
  std::vector<std::string> envStrings;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : extraEnv) overridden = overridden || k == name;
    if (!overridden) envStrings.push_back(entry);
  }
  for (const auto& [k, v] : extraEnv) envStrings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : envStrings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argStrings{command};
  argStrings.insert(argStrings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argStrings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipeFds[1]);
  if (rc != 0) {
    close(pipeFds[0]);
    result.error = std::strerror(rc);
    return result;
  }
  char buf[4096];
  while (true) {
    ssize_t n = read(pipeFds[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(pipeFds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace

TokenFileCredentials::TokenFileCredentials(std::string path, AuthInfo base, const Clock& clock,
                                           Duration maxAge)
    : path_(std::move(path)), base_(std::move(base)), clock_(clock), maxAge_(maxAge) {}

Result<AuthInfo> TokenFileCredentials::get() {
  std::lock_guard<std::mutex> lock(mu_);
  struct stat st {};
  FileStamp stamp;
  if (::stat(path_.c_str(), &st) == 0) {
    stamp.mtimeNs = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    stamp.size = static_cast<long long>(st.st_size);
    stamp.inode = st.st_ino;
  }
  bool stale = !token_ || !(stamp == stamp_) || clock_.now() - readAt_ >= maxAge_;
  if (stale) {
    std::ifstream in(path_, std::ios::binary);
    std::string token;
    if (in) {
      std::ostringstream out;
      out << in.rdbuf();
      token = trimToken(out.str());
    }
    if (!in || token.empty()) {
      // rest.Config may carry the token read at load time as well.
      if (!token_ && !base_.bearerToken.empty()) token_ = base_.bearerToken;
      if (!token_) {
        return Status::configError("token file " + path_ + ": " +
                                   (in ? std::string("empty") : std::strerror(errno)));
      }
      // Keep the last good token while the file is being replaced.
    } else {
      token_ = token;
      stamp_ = stamp;
      readAt_ = clock_.now();
    }
  }
  AuthInfo info = base_;
  info.bearerToken = *token_;
  return info;
}

void TokenFileCredentials::invalidate(const AuthInfo& used) {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_ && *token_ == used.bearerToken) readAt_ = TimePoint();  // re-read next time
}

ExecCredentials::ExecCredentials(ExecConfig exec, const Config& config, AuthInfo base,
                                 const Clock& clock)
    : exec_(std::move(exec)),
      clusterInfo_(execInfo(exec_, config)),
      base_(std::move(base)),
      clock_(clock) {}

Result<AuthInfo> ExecCredentials::get() {
  std::lock_guard<std::mutex> lock(mu_);
  // exec.go: cached credentials are used until expirationTimestamp; none
  // means they never expire (until a 401).
  if (cached_ && (!expiry_ || clock_.wallNow() < *expiry_)) return *cached_;
  return run();
}

void ExecCredentials::invalidate(const AuthInfo& used) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && *cached_ == used) cached_.reset();
}

int ExecCredentials::runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

Result<AuthInfo> ExecCredentials::run() {
  ++runs_;
  std::string what = "exec plugin " + exec_.command;
  auto env = exec_.env;
  env.emplace_back("KUBERNETES_EXEC_INFO", clusterInfo_);
  ProcessResult p = runProcess(exec_.command, exec_.args, env);
  if (!p.error.empty()) {
    std::string message = what + ": cannot run: " + p.error;
    if (!exec_.installHint.empty()) message += "\n" + exec_.installHint;
    return Status::configError(message);
  }
  if (p.exitCode != 0) {
    return Status::configError(what + ": exited with status " + std::to_string(p.exitCode));
  }
  json cred = json::parse(p.out, nullptr, false);
  if (cred.is_discarded() || !cred.is_object()) {
    return Status::configError(what + ": stdout is not an ExecCredential JSON object");
  }
  if (cred.value("apiVersion", "") != exec_.apiVersion) {
    return Status::configError(what + ": configured to use API version " + exec_.apiVersion +
                               ", plugin returned version " + cred.value("apiVersion", ""));
  }
  if (cred.value("kind", "") != "ExecCredential") {
    return Status::configError(what + ": returned kind \"" + cred.value("kind", "") +
                               "\", not ExecCredential");
  }
  if (!cred.contains("status") || !cred["status"].is_object()) {
    return Status::configError(what + ": didn't return a status field");
  }
  const json& status = cred["status"];
  AuthInfo info;
  info.bearerToken = status.value("token", "");
  info.clientCertificatePem = status.value("clientCertificateData", "");
  info.clientKeyPem = status.value("clientKeyData", "");
  if (info.clientCertificatePem.empty() != info.clientKeyPem.empty()) {
    return Status::configError(what + ": status must have both clientCertificateData and " +
                               "clientKeyData, or neither");
  }
  if (info.bearerToken.empty() && info.clientCertificatePem.empty()) {
    return Status::configError(what + ": didn't return a token or cert/key pair");
  }
  if (info.clientCertificatePem.empty()) {
    info.clientCertificatePem = base_.clientCertificatePem;
    info.clientKeyPem = base_.clientKeyPem;
  }
  expiry_.reset();
  if (std::string exp = status.value("expirationTimestamp", ""); !exp.empty()) {
    auto t = parseRfc3339(exp);
    if (!t) {
      return Status::configError(what + ": status.expirationTimestamp \"" + exp +
                                 "\" is not an RFC 3339 time");
    }
    expiry_ = *t;
  }
  cached_ = info;
  return info;
}

std::shared_ptr<Credentials> makeCredentials(const Config& config, const Clock& clock) {
  AuthInfo base{config.bearerToken, config.clientCertificatePem, config.clientKeyPem};
  if (config.exec) {
    AuthInfo certOnly{"", config.clientCertificatePem, config.clientKeyPem};
    return std::make_shared<ExecCredentials>(*config.exec, config, certOnly, clock);
  }
  if (!config.bearerTokenFile.empty()) {
    return std::make_shared<TokenFileCredentials>(config.bearerTokenFile, base, clock);
  }
  return std::make_shared<StaticCredentials>(base);
}

}  // namespace remedy::kube
