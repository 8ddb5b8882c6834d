// The Kubernetes REST API over HTTP: authentication, authorization, discovery,
// OpenAPI, and the verbs on every resource, translated into Objects calls.
#pragma once

#include "http/server.h"
#include "sandbox/faults.h"
#include "sandbox/objects.h"
#include "sandbox/rbac_authorizer.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace remedy::sandbox {

struct ApiServerOptions {
  bool authorization = false;
  std::chrono::milliseconds bookmarkInterval{std::chrono::seconds(60)};
  // A watch without timeoutSeconds ends after this long (the real server
  // picks 30 to 60 minutes at random).
  std::chrono::seconds defaultWatchTimeout{std::chrono::minutes(30)};
  std::string serverAddress;  // host:port, for APIVersions
};

class ApiServer {
 public:
  ApiServer(Objects& objects, Faults& faults, ApiServerOptions options);

  void handle(const http::Request& request, http::Responder& responder);

  void addToken(const std::string& token, UserInfo user);
  void setServerAddress(const std::string& hostPort);
  // Ends every streaming watch promptly (shutdown).
  void shutdown();

 private:
  struct Route;
  std::optional<UserInfo> authenticate(const http::Request& request) const;
  void serveApi(const http::Request& request, const UserInfo& user, http::Responder& responder);
  void serveResource(const http::Request& request, const UserInfo& user, Route& route,
                     http::Responder& responder);
  void serveWatch(const http::Request& request, const Route& route, http::Responder& responder);
  void serveReview(const http::Request& request, const UserInfo& user, const ResourceType& type,
                   http::Responder& responder);
  void serveAdmin(const http::Request& request, const UserInfo& user, http::Responder& responder);
  json discoveryFor(const std::string& group, const std::string& version) const;
  json openApiV3Index() const;
  std::optional<json> openApiV3(const std::string& group, const std::string& version) const;

  Objects& objects_;
  Faults& faults_;
  RbacAuthorizer authorizer_;
  ApiServerOptions options_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex tokensMu_;  // guards tokens_ and options_.serverAddress
  std::map<std::string, UserInfo> tokens_;
};

}  // namespace remedy::sandbox
