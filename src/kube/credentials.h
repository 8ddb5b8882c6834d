// Where the identity presented to the API server comes from, as client-go's
// transport round trippers and exec plugin (plugin/pkg/client/auth/exec)
// get it: a fixed token or certificate, a token file re-read when it
// changes, or an exec credential plugin whose answer is cached until its
// expirationTimestamp and refreshed after a 401.
#pragma once

#include "kube/clock.h"
#include "kube/config.h"
#include "kube/status.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace remedy::kube {

struct AuthInfo {
  std::string bearerToken;
  std::string clientCertificatePem;
  std::string clientKeyPem;

  bool operator==(const AuthInfo& o) const {
    return bearerToken == o.bearerToken && clientCertificatePem == o.clientCertificatePem &&
           clientKeyPem == o.clientKeyPem;
  }
};

class Credentials {
 public:
  virtual ~Credentials() = default;
  // The identity to use for the next request.
  virtual Result<AuthInfo> get() = 0;
  // The server answered 401 to a request made with `used`: drop it if it is
  // still the cached one, so the next get() fetches fresh credentials.
  virtual void invalidate(const AuthInfo& used) {}
};

class StaticCredentials : public Credentials {
 public:
  explicit StaticCredentials(AuthInfo info) : info_(std::move(info)) {}
  Result<AuthInfo> get() override { return info_; }

 private:
  const AuthInfo info_;
};

// A bearer token read from a file: re-read when the file's modification
// time, size or inode change, and at least every `maxAge`
// (transport.NewCachedFileTokenSource caches for a minute). When a re-read
// fails the last good token is kept.
class TokenFileCredentials : public Credentials {
 public:
  TokenFileCredentials(std::string path, AuthInfo base, const Clock& clock = Clock::real(),
                       Duration maxAge = std::chrono::minutes(1));
  Result<AuthInfo> get() override;
  void invalidate(const AuthInfo& used) override;

 private:
  struct FileStamp {
    long long mtimeNs = 0;
    long long size = -1;
    unsigned long long inode = 0;
    bool operator==(const FileStamp& o) const {
      return mtimeNs == o.mtimeNs && size == o.size && inode == o.inode;
    }
  };
  const std::string path_;
  const AuthInfo base_;  // client certificate, if any
  const Clock& clock_;
  const Duration maxAge_;
  std::mutex mu_;  // guards below
  std::optional<std::string> token_;
  FileStamp stamp_;
  TimePoint readAt_{};
};

// An exec credential plugin (client.authentication.k8s.io/v1 ExecCredential).
class ExecCredentials : public Credentials {
 public:
  // `config` supplies the cluster for provideClusterInfo; `base` the
  // kubeconfig's own client certificate, used when the plugin gives only a
  // token.
  ExecCredentials(ExecConfig exec, const Config& config, AuthInfo base,
                  const Clock& clock = Clock::real());
  Result<AuthInfo> get() override;
  void invalidate(const AuthInfo& used) override;
  // How many times the plugin ran (for tests and metrics).
  int runs() const;

 private:
  Result<AuthInfo> run();  // with mu_ held
  const ExecConfig exec_;
  const std::string clusterInfo_;  // KUBERNETES_EXEC_INFO
  const AuthInfo base_;
  const Clock& clock_;
  mutable std::mutex mu_;  // guards below
  std::optional<AuthInfo> cached_;
  std::optional<WallTime> expiry_;
  int runs_ = 0;
};

// Chooses the credentials a Config asks for (exec, then token file, then
// token and certificate).
std::shared_ptr<Credentials> makeCredentials(const Config& config,
                                             const Clock& clock = Clock::real());

}  // namespace remedy::kube
