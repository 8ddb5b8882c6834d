#include "api/typed_values.h"

#include "api/common_types.h"
#include "api/duration.h"
#include "api/runbook_policy.h"
#include "api/template.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <functional>
#include <set>

namespace remedy::api {
namespace {

using json = nlohmann::json;

bool alnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool isDnsLabelText(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  if (!alnumLower(s.front()) || !alnumLower(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return alnumLower(c) || c == '-'; });
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters.
bool isQualifiedNamePart(const std::string& s) {
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A value for a message: quoted, and cut short (a rendered value can be 64 KiB).
std::string shown(const std::string& value) {
  constexpr size_t kMax = 64;
  std::string cut = value.size() > kMax ? value.substr(0, kMax) + "..." : value;
  return json(cut).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string joinKinds(const std::vector<std::pair<std::string, std::string>>& kinds) {
  std::string out;
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) out += i + 1 == kinds.size() ? " or " : ", ";
    out += kinds[i].second;
  }
  return out;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string stringAt(const json& object, const char* key) {
  const json* v = member(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

bool isHttpUrl(const std::string& s) {
  for (const char* scheme : {"http://", "https://"}) {
    std::string prefix = scheme;
    if (s.compare(0, prefix.size(), prefix) == 0 && s.size() > prefix.size()) return true;
  }
  return false;
}

class RenderedChecker {
 public:
  RenderedChecker(const std::string& action, const json& source, const FieldPath& path)
      : action_(action), source_(source), path_(path) {}

  std::vector<ValidationError> run(const json& p) {
    if (!p.is_object()) return errors_;
    if (const json* target = member(p, "target")) checkTarget(*target, path_.child("target"));
    if (action_ == "scale") checkReplicas(p);
    if (action_ == "deletePods") checkDeletePods(p);
    if (action_ == "waitFor") checkWaitFor(p);
    if (action_ == "apply") checkManifest(p);
    if (action_ == "redis") checkRedis(p);
    if (action_ == "prometheusCheck") {
      duration(p, "pollInterval", path_);
      duration(p, "holdFor", path_);
    }
    if (action_ == "http" || action_ == "notify" || action_ == "prometheusCheck" ||
        action_ == "prometheusQuery") {
      if (const json* url = member(p, "url"); url && url->is_string()) {
        if (!isHttpUrl(url->get<std::string>())) {
          error(path_.child("url"),
                shown(url->get<std::string>()) + " is not an http:// or https:// URL");
        }
      }
    }
    if (action_ == "http") checkHeaders(p);
    if (action_ == "podLogs") checkPodLogs(p);
    return errors_;
  }

 private:
  void error(const FieldPath& at, const std::string& message) {
    errors_.push_back({at.str(), message, at.pointer()});
  }

  void name(const json& object, const char* key, const FieldPath& at) {
    const json* v = member(object, key);
    if (v == nullptr || !v->is_string()) return;
    if (!isObjectName(v->get<std::string>())) {
      error(at.child(key), shown(v->get<std::string>()) +
                               " is not a valid object name (lowercase letters, digits, '-' and "
                               "'.', starting and ending with a letter or digit)");
    }
  }

  void namespaceName(const json& object, const char* key, const FieldPath& at) {
    const json* v = member(object, key);
    if (v == nullptr || !v->is_string() || v->get<std::string>().empty()) return;
    if (!isNamespaceName(v->get<std::string>())) {
      error(at.child(key), shown(v->get<std::string>()) + " is not a valid namespace name");
    }
  }

  void duration(const json& object, const char* key, const FieldPath& at) {
    const json* v = member(object, key);
    if (v == nullptr || !v->is_string()) return;
    if (!parseDuration(v->get<std::string>()).ok()) {
      error(at.child(key), shown(v->get<std::string>()) + " is not a duration such as 30s or 5m");
    }
  }

  void checkTarget(const json& target, const FieldPath& at) {
    if (member(target, "pod") != nullptr) {
      // Before it is resolved: the pod's name (an alert label), and the
      // owner kind the step may act on.
      name(target, "pod", at);
      namespaceName(target, "namespace", at);
      std::string owner = stringAt(target, "owner");
      if (owner != "Deployment" && owner != "StatefulSet") {
        error(at.child("owner"), shown(owner) + " is not Deployment or StatefulSet");
      } else if (auto refusal = targetKindRefusal(action_, "apps/v1", owner)) {
        error(at.child("owner"), *refusal);
      }
      return;
    }
    name(target, "name", at);
    namespaceName(target, "namespace", at);
    std::string kind = stringAt(target, "kind");
    if (kind.empty()) kind = "Deployment";
    std::string apiVersion = stringAt(target, "apiVersion");
    if (apiVersion.empty()) apiVersion = defaultApiVersion(kind).value_or("");
    if (auto refusal = targetKindRefusal(action_, apiVersion, kind)) {
      error(at.child("kind"), *refusal);
    }
  }

  // The pod's name (often an alert label) and the container's, as the API
  // server would take them in a path and a query.
  void checkPodLogs(const json& p) {
    name(p, "pod", path_);
    namespaceName(p, "namespace", path_);
    const json* container = member(p, "container");
    if (container != nullptr && container->is_string() && !container->get<std::string>().empty() &&
        !isNamespaceName(container->get<std::string>())) {
      error(path_.child("container"),
            shown(container->get<std::string>()) +
                " is not a valid container name (a DNS label: lowercase letters, digits and '-')");
    }
  }

  void checkReplicas(const json& p) {
    const json* replicas = member(p, "replicas");
    if (replicas == nullptr) return;
    FieldPath at = path_.child("replicas");
    if (replicas->is_number_integer()) {
      int64_t n = replicas->get<int64_t>();
      if (n < 0 || n > INT32_MAX) {
        error(at, std::to_string(n) + " is not a replica count (0 to 2147483647)");
      }
      return;
    }
    if (!replicas->is_string()) return;
    std::string text = replicas->get<std::string>();
    bool signed_ = !text.empty() && (text[0] == '+' || text[0] == '-');
    std::string digits = signed_ ? text.substr(1) : text;
    bool numeric = !digits.empty() && digits.size() <= 10 &&
                   std::all_of(digits.begin(), digits.end(),
                               [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (!numeric || std::strtoll(digits.c_str(), nullptr, 10) > INT32_MAX) {
      error(at, shown(text) + " is not a replica count (0 to 2147483647) or a relative change " +
                    "like \"+2\"");
      return;
    }
    // A relative change is the author's choice, written in the template: a
    // value must not turn "{{ alert.labels.replicas }}" into "-100".
    const json* written = member(source_, "replicas");
    std::string template_ =
        written != nullptr && written->is_string() ? written->get<std::string>() : "";
    if (signed_ && hasTemplate(template_) && template_[0] != '+' && template_[0] != '-') {
      error(at, shown(text) + " is a relative change, but the template " + shown(template_) +
                    " asks for a replica count; write the sign before the template, as in " +
                    "\"+{{ params.step }}\"");
    }
  }

  void checkSelector(const json& selector, const FieldPath& at) {
    if (const json* labels = member(selector, "matchLabels"); labels && labels->is_object()) {
      for (auto it = labels->begin(); it != labels->end(); ++it) {
        FieldPath lp = at.child("matchLabels").key(it.key());
        if (!isLabelKey(it.key())) error(lp, shown(it.key()) + " is not a label key");
        if (it->is_string() && !isLabelValue(it->get<std::string>())) {
          error(lp, shown(it->get<std::string>()) +
                        " is not a label value (at most 63 letters, digits, '-', '_' and '.')");
        }
      }
    }
    const json* expressions = member(selector, "matchExpressions");
    if (expressions == nullptr || !expressions->is_array()) return;
    for (size_t i = 0; i < expressions->size(); ++i) {
      const json& e = (*expressions)[i];
      FieldPath ep = at.child("matchExpressions").index(i);
      std::string key = stringAt(e, "key");
      if (!isLabelKey(key)) error(ep.child("key"), shown(key) + " is not a label key");
      std::string op = stringAt(e, "operator");
      static const std::set<std::string> ops = {"In", "NotIn", "Exists", "DoesNotExist"};
      if (!ops.count(op)) {
        error(ep.child("operator"), shown(op) + " is not In, NotIn, Exists or DoesNotExist");
      }
      const json* values = member(e, "values");
      if (values == nullptr || !values->is_array()) continue;
      for (size_t j = 0; j < values->size(); ++j) {
        const json& v = (*values)[j];
        if (v.is_string() && !isLabelValue(v.get<std::string>())) {
          error(ep.child("values").index(j),
                shown(v.get<std::string>()) +
                    " is not a label value (at most 63 letters, digits, '-', '_' and '.')");
        }
      }
    }
  }

  void checkDeletePods(const json& p) {
    namespaceName(p, "namespace", path_);
    if (const json* selector = member(p, "selector"))
      checkSelector(*selector, path_.child("selector"));
  }

  void checkWaitFor(const json& p) {
    duration(p, "pollInterval", path_);
    const json* field = member(p, "field");
    if (field == nullptr) return;
    std::string op = stringAt(*field, "operator");
    const json* value = member(*field, "value");
    if (op.empty() || op == "Equal" || op == "NotEqual" || value == nullptr ||
        !value->is_string()) {
      return;
    }
    std::string text = value->get<std::string>();
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      error(path_.child("field").child("value"),
            shown(text) + " is not a number, and " + op + " compares numbers");
    }
  }

  void checkManifest(const json& p) {
    const json* manifest = member(p, "manifest");
    if (manifest == nullptr || !manifest->is_object()) return;
    FieldPath mp = path_.child("manifest");
    std::string apiVersion = stringAt(*manifest, "apiVersion");
    std::string kind = stringAt(*manifest, "kind");
    if (auto refusal = targetKindRefusal(action_, apiVersion, kind))
      error(mp.child("kind"), *refusal);
    if (const json* meta = member(*manifest, "metadata")) {
      name(*meta, "name", mp.child("metadata"));
      namespaceName(*meta, "namespace", mp.child("metadata"));
    }
  }

  void checkRedis(const json& p) {
    const json* del = member(p, "deleteKeys");
    if (del == nullptr) return;
    const json* pattern = member(*del, "pattern");
    if (pattern == nullptr || !pattern->is_string()) return;
    std::string text = pattern->get<std::string>();
    if (text.empty() || redisPatternMatchesEverything(text)) {
      error(path_.child("deleteKeys").child("pattern"),
            shown(text) + " would match every key (it has no literal character); use a " +
                "narrower pattern such as \"cache:*\"");
    }
  }

  void checkHeaders(const json& p) {
    const json* headers = member(p, "headers");
    if (headers == nullptr || !headers->is_array()) return;
    for (size_t i = 0; i < headers->size(); ++i) {
      std::string value = stringAt((*headers)[i], "value");
      if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        error(path_.child("headers").index(i).child("value"),
              "contains a line break or NUL, which would end the header");
      }
    }
  }

  const std::string& action_;
  const json& source_;
  const FieldPath& path_;
  std::vector<ValidationError> errors_;
};

// ---- embeddings ----

// Which expressions of a template sit inside a double-quoted string of the
// text around them (PromQL or JSON): the literal text is lexed, each
// expression's source skipped as an opaque value.
struct QuotedState {
  bool inDouble = false;
  bool inOther = false;  // PromQL '...' or `...`
  char otherQuote = 0;
  bool escaped = false;
  bool comment = false;  // PromQL # to the end of the line
};

void lex(QuotedState& s, const std::string& text, Embedding embedding) {
  for (char c : text) {
    if (s.comment) {
      if (c == '\n') s.comment = false;
      continue;
    }
    if (s.inDouble || s.inOther) {
      if (s.escaped) {
        s.escaped = false;
      } else if (c == '\\' && !(s.inOther && s.otherQuote == '`')) {
        s.escaped = true;
      } else if (s.inDouble && c == '"') {
        s.inDouble = false;
      } else if (s.inOther && c == s.otherQuote) {
        s.inOther = false;
      }
      continue;
    }
    if (c == '"') {
      s.inDouble = true;
    } else if (embedding == Embedding::kPromqlQuery && (c == '\'' || c == '`')) {
      s.inOther = true;
      s.otherQuote = c;
    } else if (embedding == Embedding::kPromqlQuery && c == '#') {
      s.comment = true;
    }
  }
}

// Whether `element` (a string of a pod template) invokes a shell's -c.
bool isShell(const std::string& program) {
  std::string base = program.substr(
      program.find_last_of('/') == std::string::npos ? 0 : program.find_last_of('/') + 1);
  static const std::set<std::string> shells = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"};
  return shells.count(base) > 0;
}

bool isDashC(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg[1] == '-') return false;
  return arg.find('c') != std::string::npos && std::all_of(arg.begin() + 1, arg.end(), [](char c) {
           return std::isalpha(static_cast<unsigned char>(c));
         });
}

}  // namespace

bool isObjectName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string part = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!isDnsLabelText(part, 253)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool isNamespaceName(const std::string& s) { return isDnsLabelText(s, 63); }

bool isLabelKey(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return isQualifiedNamePart(s);
  std::string prefix = s.substr(0, slash);
  return isObjectName(prefix) && isQualifiedNamePart(s.substr(slash + 1));
}

bool isLabelValue(const std::string& s) { return s.empty() || isQualifiedNamePart(s); }

bool isSecretKind(const std::string& group, const std::string& kind) {
  return group.empty() && kind == "Secret";
}

const std::vector<std::pair<std::string, std::string>>& targetKinds(const std::string& action) {
  static const std::vector<std::pair<std::string, std::string>> none;
  static const std::vector<std::pair<std::string, std::string>> scale = {
      {"apps", "Deployment"}, {"apps", "StatefulSet"}, {"apps", "ReplicaSet"}};
  static const std::vector<std::pair<std::string, std::string>> restart = {
      {"apps", "Deployment"}, {"apps", "StatefulSet"}, {"apps", "DaemonSet"}};
  static const std::vector<std::pair<std::string, std::string>> pods = {{"apps", "Deployment"},
                                                                        {"apps", "StatefulSet"},
                                                                        {"apps", "ReplicaSet"},
                                                                        {"apps", "DaemonSet"},
                                                                        {"batch", "Job"}};
  if (action == "scale") return scale;
  static const std::vector<std::pair<std::string, std::string>> undo = {{"apps", "Deployment"}};
  if (action == "rolloutRestart") return restart;
  if (action == "rolloutUndo") return undo;
  if (action == "deletePods") return pods;
  // A workload whose pods it reads, or the pod itself.
  static const std::vector<std::pair<std::string, std::string>> logs = {
      {"apps", "Deployment"}, {"apps", "StatefulSet"}, {"apps", "ReplicaSet"},
      {"apps", "DaemonSet"},  {"batch", "Job"},        {"", "Pod"}};
  if (action == "podLogs") return logs;
  return none;
}

std::optional<std::string> targetKindRefusal(const std::string& action,
                                             const std::string& apiVersion,
                                             const std::string& kind) {
  std::string group = groupOf(apiVersion);
  if (isSecretKind(group, kind)) {
    return "a Secret is never the target of a step; Remedy reads a Secret only through a " +
           std::string("secretKeyRef, one key, in the Runbook's namespace");
  }
  const auto& kinds = targetKinds(action);
  if (kinds.empty()) return std::nullopt;
  for (const auto& [g, k] : kinds) {
    if (g == group && k == kind) return std::nullopt;
  }
  bool known =
      std::any_of(kinds.begin(), kinds.end(), [&](const auto& k) { return k.second == kind; });
  return json(kind).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         (known ? " of API group " +
                      json(group).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                : "") +
         " is not supported here; use " + joinKinds(kinds);
}

bool redisPatternMatchesEverything(const std::string& pattern) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*' || c == '?') continue;
    if (c == '\\') return false;  // an escaped character (or a lone backslash) is literal
    if (c == '[') {
      // A class matches one of many characters: not literal. Skip to its
      // end (stringmatchlen: "\x" escapes inside, "]" closes).
      for (++i; i < pattern.size() && pattern[i] != ']'; ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) ++i;
      }
      continue;
    }
    return false;
  }
  return true;
}

std::vector<ValidationError> checkRenderedAction(const std::string& action, const json& source,
                                                 const json& rendered, const FieldPath& path) {
  return RenderedChecker(action, source, path).run(rendered);
}

std::vector<std::string> embeddingErrors(const std::string& text, Embedding embedding) {
  std::vector<std::string> out;
  Result<Template> parsed = Template::parse(text);
  if (!parsed.ok()) return out;
  if (embedding == Embedding::kRedisGlob) {
    for (const TemplateExpression& e : parsed->expressions()) {
      if (e.isLiteral || e.lastFilter == "glob") continue;
      out.push_back(e.source + " would let a \"*\" or \"?\" in the value widen the pattern; " +
                    "end it with | glob, as in session:{{ params.user | glob }}:*");
    }
    return out;
  }
  const char* language = embedding == Embedding::kPromqlQuery ? "PromQL" : "JSON";
  const char* filter = embedding == Embedding::kPromqlQuery ? "promql" : "json";
  std::string example = embedding == Embedding::kPromqlQuery
                            ? "{deployment=\"{{ params.deployment | promql }}\"}"
                            : "{\"deployment\": \"{{ params.deployment | json }}\"}";
  QuotedState state;
  size_t at = 0;
  for (const TemplateExpression& e : parsed->expressions()) {
    lex(state, text.substr(at, e.offset - at), embedding);
    at = e.offset + e.source.size();
    if (e.isLiteral) continue;
    if (!state.inDouble) {
      out.push_back(e.source + " is outside a double-quoted " + language +
                    " string; a value may only be embedded inside one, escaped, as in " + example);
    } else if (e.lastFilter != filter) {
      out.push_back(e.source + " is inside a " + language + " string; end it with | " + filter +
                    " so the value cannot end the string, as in " + example);
    }
  }
  return out;
}

std::vector<ValidationError> runJobTemplateErrors(const json& podTemplate, const FieldPath& path) {
  std::vector<ValidationError> out;
  auto error = [&](const FieldPath& at, const std::string& message) {
    out.push_back({at.str(), message, at.pointer()});
  };
  const std::string misplaced =
      "templates reach a Job's containers only as env values or as command and args entries, " +
      std::string("never as the program, a shell's -c script or the rest of the pod template");
  // Every templated string, with the path where it sits.
  std::function<void(const json&, const FieldPath&, bool)> walk;
  walk = [&](const json& node, const FieldPath& at, bool allowed) {
    if (node.is_string()) {
      if (!allowed && hasTemplate(node.get<std::string>())) error(at, misplaced);
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) walk(node[i], at.index(i), allowed);
    } else if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it)
        walk(it.value(), at.child(it.key()), allowed);
    }
  };
  if (!podTemplate.is_object()) return out;
  const json* spec = member(podTemplate, "spec");
  for (auto it = podTemplate.begin(); it != podTemplate.end(); ++it) {
    if (it.key() != "spec") walk(it.value(), path.child(it.key()), false);
  }
  if (spec == nullptr || !spec->is_object()) return out;
  FieldPath sp = path.child("spec");
  for (auto it = spec->begin(); it != spec->end(); ++it) {
    if (it.key() != "containers" && it.key() != "initContainers") {
      walk(it.value(), sp.child(it.key()), false);
      continue;
    }
    if (!it->is_array()) continue;
    for (size_t i = 0; i < it->size(); ++i) {
      const json& container = (*it)[i];
      FieldPath cp = sp.child(it.key()).index(i);
      if (!container.is_object()) continue;
      std::vector<std::string> command, args;
      for (const char* key : {"command", "args"}) {
        const json* list = member(container, key);
        if (list == nullptr || !list->is_array()) continue;
        for (const json& v : *list) {
          (std::string(key) == "command" ? command : args)
              .push_back(v.is_string() ? v.get<std::string>() : "");
        }
      }
      // The script of `sh -c SCRIPT`, as a position in command + args (or
      // -1). Without a command the image's entrypoint runs args, which may
      // be a shell too: then a -c among args counts the same.
      std::vector<std::string> all = command;
      all.insert(all.end(), args.begin(), args.end());
      long script = -1;
      bool shell = !all.empty() && (isShell(all[0]) || command.empty());
      for (size_t k = command.empty() ? 0 : 1; shell && k < all.size(); ++k) {
        if (isDashC(all[k])) {
          script = static_cast<long>(k + 1);
          break;
        }
      }
      for (auto field = container.begin(); field != container.end(); ++field) {
        FieldPath fp = cp.child(field.key());
        bool isCommand = field.key() == "command";
        if ((isCommand || field.key() == "args") && field->is_array()) {
          // Each element is one argv entry: a value there is data, except
          // the program itself and a shell's -c script.
          for (size_t k = 0; k < field->size(); ++k) {
            long position =
                static_cast<long>(k) + (isCommand ? 0 : static_cast<long>(command.size()));
            bool program = position == 0;
            walk((*field)[k], fp.index(k), !program && position != script);
          }
        } else if (field.key() == "env" && field->is_array()) {
          for (size_t k = 0; k < field->size(); ++k) {
            const json& var = (*field)[k];
            if (!var.is_object()) continue;
            for (auto e = var.begin(); e != var.end(); ++e) {
              walk(e.value(), fp.index(k).child(e.key()), e.key() == "value");
            }
          }
        } else {
          walk(field.value(), fp, false);
        }
      }
    }
  }
  return out;
}

}  // namespace remedy::api
