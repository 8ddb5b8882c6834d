#include "kube/kubeconfig.h"

#include "kube/base64.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace remedy::kube {
namespace {

struct Entry {
  YAML::Node node;  // the inner "cluster" / "user" / "context" map
  std::string file;
  std::string baseDir;
};

struct Merged {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string currentContext;
  std::vector<std::string> files;

  std::string describe() const {
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : ":") + f;
    return out.empty() ? "(none)" : out;
  }
};

std::string dirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string resolvePath(const std::string& path, const std::string& baseDir) {
  if (path.empty() || path[0] == '/' || baseDir.empty()) return path;
  return baseDir + "/" + path;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::configError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string scalar(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return "";
  YAML::Node v = node[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

bool boolean(const YAML::Node& node, const char* key) {
  std::string v = scalar(node, key);
  return v == "true" || v == "True" || v == "yes";
}

// Adds one file's entries; earlier files win (clientcmd loader.go).
Status mergeFile(const std::string& text, const std::string& file, Merged& merged) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::configError("kubeconfig " + file + ": invalid YAML: " + e.what());
  }
  merged.files.push_back(file);
  if (!root || root.IsNull()) return Status();  // an empty file is allowed
  if (!root.IsMap()) return Status::configError("kubeconfig " + file + ": not a YAML map");
  std::string baseDir = file.empty() ? "" : dirOf(file);
  auto addAll = [&](const char* listKey, const char* innerKey,
                    std::map<std::string, Entry>& into) -> Status {
    YAML::Node list = root[listKey];
    if (!list || list.IsNull()) return Status();
    if (!list.IsSequence()) {
      return Status::configError("kubeconfig " + file + ": " + listKey + ": expected a list");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      std::string name = scalar(list[i], "name");
      if (name.empty()) {
        return Status::configError("kubeconfig " + file + ": " + listKey + "[" + std::to_string(i) +
                                   "].name: required");
      }
      YAML::Node inner = list[i][innerKey];
      if (!into.count(name)) into[name] = Entry{inner, file, baseDir};
    }
    return Status();
  };
  if (Status s = addAll("clusters", "cluster", merged.clusters); !s) return s;
  if (Status s = addAll("users", "user", merged.users); !s) return s;
  if (Status s = addAll("contexts", "context", merged.contexts); !s) return s;
  if (merged.currentContext.empty()) merged.currentContext = scalar(root, "current-context");
  return Status();
}

// A PEM from `<field>-data` (base64) or `<field>` (a file path).
Result<std::string> pemField(const Entry& e, const std::string& where, const std::string& field) {
  std::string data = scalar(e.node, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = decodeBase64(data);
    if (!decoded) {
      return Status::configError(where + "." + field + "-data: not valid base64 (" +
                                 decoded.error() + ")");
    }
    return decoded.value();
  }
  std::string path = scalar(e.node, field.c_str());
  if (path.empty()) return std::string();
  auto text = readFile(resolvePath(path, e.baseDir));
  if (!text) return text.status().withContext(where + "." + field);
  return text;
}

Result<Config> resolve(const Merged& merged, const std::string& contextOverride) {
  std::string contextName = contextOverride.empty() ? merged.currentContext : contextOverride;
  std::string files = "kubeconfig " + merged.describe();
  if (contextName.empty()) {
    return Status::configError(files + ": no current-context is set and no context was given");
  }
  auto ctx = merged.contexts.find(contextName);
  if (ctx == merged.contexts.end()) {
    return Status::configError(files + ": context \"" + contextName + "\" not found");
  }
  std::string ctxWhere = "kubeconfig " + ctx->second.file + ": contexts[" + contextName + "]";
  std::string clusterName = scalar(ctx->second.node, "cluster");
  std::string userName = scalar(ctx->second.node, "user");
  if (clusterName.empty()) return Status::configError(ctxWhere + ".cluster: required");

  Config config;
  config.origin = files + ", context " + contextName;
  std::string ns = scalar(ctx->second.node, "namespace");
  if (!ns.empty()) config.namespace_ = ns;

  auto cluster = merged.clusters.find(clusterName);
  if (cluster == merged.clusters.end()) {
    return Status::configError(ctxWhere + ".cluster: cluster \"" + clusterName + "\" not found");
  }
  const Entry& c = cluster->second;
  std::string cWhere = "kubeconfig " + c.file + ": clusters[" + clusterName + "].cluster";
  config.server = scalar(c.node, "server");
  if (config.server.empty()) return Status::configError(cWhere + ".server: required");
  if (config.server.find("://") == std::string::npos) config.server = "https://" + config.server;
  while (config.server.size() > 8 && config.server.back() == '/') config.server.pop_back();
  config.insecureSkipTlsVerify = boolean(c.node, "insecure-skip-tls-verify");
  config.tlsServerName = scalar(c.node, "tls-server-name");
  auto ca = pemField(c, cWhere, "certificate-authority");
  if (!ca) return ca.status();
  config.caPem = *ca;
  if (config.insecureSkipTlsVerify && !config.caPem.empty()) {
    // validation.go: a root certificate with the insecure flag is refused.
    return Status::configError(cWhere +
                               ": certificate-authority and insecure-skip-tls-verify are both "
                               "set; a root certificate with the insecure flag is not allowed");
  }

  if (userName.empty()) return config;  // anonymous
  auto user = merged.users.find(userName);
  if (user == merged.users.end()) {
    return Status::configError(ctxWhere + ".user: user \"" + userName + "\" not found");
  }
  const Entry& u = user->second;
  std::string uWhere = "kubeconfig " + u.file + ": users[" + userName + "].user";
  auto cert = pemField(u, uWhere, "client-certificate");
  if (!cert) return cert.status();
  auto key = pemField(u, uWhere, "client-key");
  if (!key) return key.status();
  if (cert->empty() != key->empty()) {
    return Status::configError(
        uWhere + ": client-certificate and client-key must be given " + "together (" +
        (cert->empty() ? "client-key" : "client-certificate") + " alone was given)");
  }
  config.clientCertificatePem = *cert;
  config.clientKeyPem = *key;

  config.bearerToken = scalar(u.node, "token");
  std::string tokenFile = scalar(u.node, "tokenFile");
  if (!tokenFile.empty()) {
    config.bearerTokenFile = resolvePath(tokenFile, u.baseDir);
    if (config.bearerToken.empty()) {
      // client_config.go reads it once up front, so a missing file is an
      // error at load time rather than on the first request.
      auto text = readFile(config.bearerTokenFile);
      if (!text) return text.status().withContext(uWhere + ".tokenFile");
    }
  }
  if (u.node && u.node.IsMap() && u.node["auth-provider"]) {
    return Status::configError(uWhere + ".auth-provider: not supported; use an exec plugin");
  }
  if (!scalar(u.node, "username").empty() || !scalar(u.node, "password").empty()) {
    return Status::configError(uWhere + ".username: basic authentication is not supported");
  }

  YAML::Node exec = u.node && u.node.IsMap() ? u.node["exec"] : YAML::Node();
  if (exec && !exec.IsNull()) {
    std::string eWhere = uWhere + ".exec";
    if (!exec.IsMap()) return Status::configError(eWhere + ": expected a map");
    ExecConfig e;
    e.command = scalar(exec, "command");
    if (e.command.empty()) return Status::configError(eWhere + ".command: required");
    // A command with a slash is relative to the kubeconfig (loader.go
    // ResolvePaths); a bare name is looked up on PATH.
    if (e.command.find('/') != std::string::npos) e.command = resolvePath(e.command, u.baseDir);
    e.apiVersion = scalar(exec, "apiVersion");
    if (e.apiVersion.empty()) return Status::configError(eWhere + ".apiVersion: required");
    if (e.apiVersion != "client.authentication.k8s.io/v1" &&
        e.apiVersion != "client.authentication.k8s.io/v1beta1") {
      return Status::configError(eWhere + ".apiVersion: \"" + e.apiVersion +
                                 "\" is not supported; use client.authentication.k8s.io/v1");
    }
    // Found by fuzz/kubeconfig: an item that is not a string made
    // as<std::string>() throw out of the parser. client-go refuses both.
    if (YAML::Node args = exec["args"]; args && !args.IsNull()) {
      if (!args.IsSequence())
        return Status::configError(eWhere + ".args: expected a list of strings");
      for (size_t i = 0; i < args.size(); ++i) {
        if (!args[i].IsScalar()) {
          return Status::configError(eWhere + ".args[" + std::to_string(i) +
                                     "]: expected a string");
        }
        e.args.push_back(args[i].as<std::string>());
      }
    }
    if (YAML::Node env = exec["env"]; env && env.IsSequence()) {
      for (size_t i = 0; i < env.size(); ++i) {
        std::string name = scalar(env[i], "name");
        if (name.empty()) {
          return Status::configError(eWhere + ".env[" + std::to_string(i) + "].name: required");
        }
        e.env.emplace_back(name, scalar(env[i], "value"));
      }
    }
    e.installHint = scalar(exec, "installHint");
    e.provideClusterInfo = boolean(exec, "provideClusterInfo");
    e.interactiveMode = scalar(exec, "interactiveMode");
    if (e.interactiveMode.empty()) e.interactiveMode = "IfAvailable";
    if (e.interactiveMode != "Never" && e.interactiveMode != "IfAvailable" &&
        e.interactiveMode != "Always") {
      return Status::configError(eWhere + ".interactiveMode: \"" + e.interactiveMode +
                                 "\" must be Never, IfAvailable or Always");
    }
    if (e.interactiveMode == "Always") {
      return Status::configError(eWhere +
                                 ".interactiveMode: Always needs a terminal, which a "
                                 "controller does not have");
    }
    config.exec = std::move(e);
  }
  return config;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ':') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool fileExists(const std::string& path) { return std::ifstream(path).good(); }

std::string homeConfig(const EnvLookup& env) {
  auto home = env("HOME");
  return home ? *home + "/.kube/config" : "";
}

}  // namespace

Result<Config> parseKubeconfig(const std::string& yaml, const std::string& origin,
                               const std::string& baseDir, const std::string& context) {
  Merged merged;
  if (Status s = mergeFile(yaml, origin, merged); !s) return s;
  // mergeFile derives the base directory from the file name; honour the
  // caller's when the text did not come from a file.
  for (auto* m : {&merged.clusters, &merged.users, &merged.contexts}) {
    for (auto& [name, e] : *m) e.baseDir = baseDir;
  }
  return resolve(merged, context);
}

Result<Config> loadKubeconfig(const KubeconfigOptions& options) {
  std::vector<std::string> files;
  bool explicitPath = !options.path.empty();
  if (explicitPath) {
    files.push_back(options.path);
  } else if (auto list = options.env("KUBECONFIG"); list && !list->empty()) {
    for (const auto& f : splitList(*list)) {
      if (fileExists(f)) files.push_back(f);
    }
    if (files.empty()) {
      return Status::configError("KUBECONFIG=" + *list + ": none of these files exists");
    }
  } else {
    std::string home = homeConfig(options.env);
    if (home.empty() || !fileExists(home)) {
      return Status::configError(
          "no kubeconfig: KUBECONFIG is not set and " +
          (home.empty() ? std::string("HOME is not set") : home + " does not exist"));
    }
    files.push_back(home);
  }
  Merged merged;
  for (const auto& f : files) {
    auto text = readFile(f);
    if (!text) return text.status().withContext("kubeconfig");
    if (Status s = mergeFile(*text, f, merged); !s) return s;
  }
  auto config = resolve(merged, options.context);
  if (config && !options.namespace_.empty()) config->namespace_ = options.namespace_;
  return config;
}

Result<Config> defaultConfig(const KubeconfigOptions& options, const InClusterOptions& inCluster) {
  if (!options.path.empty()) return loadKubeconfig(options);
  if (auto list = options.env("KUBECONFIG"); list && !list->empty()) {
    return loadKubeconfig(options);
  }
  if (options.env("KUBERNETES_SERVICE_HOST")) {
    auto config = inClusterConfig(inCluster);
    if (config && !options.namespace_.empty()) config->namespace_ = options.namespace_;
    if (config) return config;
  }
  return loadKubeconfig(options);
}

}  // namespace remedy::kube
