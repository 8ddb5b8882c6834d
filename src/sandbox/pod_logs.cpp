#include "sandbox/pod_logs.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace remedy::sandbox {
namespace {

using json = nlohmann::json;

const json& at(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string str(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// strconv.ParseInt(s, 10, 64): an optional sign and decimal digits only.
std::optional<int64_t> parseInt(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  for (size_t k = i; k < text.size(); ++k) {
    if (!std::isdigit(static_cast<unsigned char>(text[k]))) return std::nullopt;
  }
  errno = 0;
  long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string containerNames(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& c : list) out += (out.empty() ? "" : " ") + str(c, "name");
  return out;
}

bool hasContainer(const json& spec, const std::string& name) {
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    const json& cs = at(spec, list);
    if (!cs.is_array()) continue;
    for (const auto& c : cs) {
      if (str(c, "name") == name) return true;
    }
  }
  return false;
}

const json* containerStatus(const json& status, const std::string& name) {
  for (const char* list :
       {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"}) {
    const json& cs = at(status, list);
    if (!cs.is_array()) continue;
    for (const auto& c : cs) {
      if (str(c, "name") == name) return &c;
    }
  }
  return nullptr;
}

std::string annotation(const json& pod, const std::string& key) {
  return str(at(at(pod, "metadata"), "annotations"), key.c_str());
}

// The last `n` lines of `text`; a last line without a newline counts.
std::string tail(const std::string& text, int64_t n) {
  if (n <= 0) return "";
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  size_t pos = end;
  int64_t lines = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    ++lines;
    if (nl == std::string::npos) return text;
    if (lines == n) return text.substr(nl + 1);
    pos = nl;
  }
  return text;
}

}  // namespace

Result<PodLogQuery> parsePodLogQuery(
    const std::string& pod,
    const std::function<std::optional<std::string>(const std::string&)>& param) {
  PodLogQuery q;
  q.container = param("container").value_or("");
  if (auto p = param("previous")) {
    // Convert_Slice_string_To_bool: false only for "0" and "false" in any case.
    std::string v = *p;
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    q.previous = !(v == "0" || v == "false");
  }
  std::vector<StatusCause> causes;
  if (auto raw = param("tailLines")) {
    auto value = parseInt(*raw);
    if (!value) {
      return ApiError::badRequest("strconv.ParseInt: parsing \"" + *raw + "\": invalid syntax");
    }
    q.tailLines = value;
    if (*value < 0) {
      causes.push_back(
          {"FieldValueInvalid",
           "Invalid value: " + std::to_string(*value) + ": must be greater than or equal to 0",
           "tailLines"});
    }
  }
  if (auto raw = param("limitBytes")) {
    auto value = parseInt(*raw);
    if (!value) {
      return ApiError::badRequest("strconv.ParseInt: parsing \"" + *raw + "\": invalid syntax");
    }
    q.limitBytes = value;
    if (*value < 1) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + std::to_string(*value) + ": must be greater than 0",
                        "limitBytes"});
    }
  }
  if (!causes.empty()) return ApiError::invalid("", "PodLogOptions", pod, std::move(causes));
  return q;
}

Result<std::string> podLog(const json& pod, const PodLogQuery& query) {
  const std::string name = str(at(pod, "metadata"), "name");
  const json& spec = at(pod, "spec");
  std::string container = query.container;
  if (container.empty()) {
    const json& cs = at(spec, "containers");
    size_t count = cs.is_array() ? cs.size() : 0;
    if (count == 1) {
      container = str(cs[0], "name");
    } else if (count == 0) {
      return ApiError::badRequest("a container name must be specified for pod " + name);
    } else {
      std::string message = "a container name must be specified for pod " + name +
                            ", choose one of: [" + containerNames(cs) + "]";
      std::string inits = containerNames(at(spec, "initContainers"));
      if (!inits.empty()) message += " or one of the init containers: [" + inits + "]";
      return ApiError::badRequest(message);
    }
  } else if (!hasContainer(spec, container)) {
    return ApiError::badRequest("container " + container + " is not valid for pod " + name);
  }
  // Not yet bound to a node: kube-apiserver answers an empty log.
  if (str(spec, "nodeName").empty()) return std::string();

  // The kubelet: which instance of the container, if any, has a log.
  const json* status = containerStatus(at(pod, "status"), container);
  std::string quoted = "\"" + container + "\" in pod \"" + name + "\"";
  if (!status) return ApiError::badRequest("container " + quoted + " is not available");
  const json& state = at(*status, "state");
  bool lastTerminated = at(at(*status, "lastState"), "terminated").is_object();
  bool usePrevious = query.previous;
  if (query.previous) {
    if (!lastTerminated) {
      return ApiError::badRequest("previous terminated container " + quoted + " not found");
    }
  } else if (!state.contains("running") && !state.contains("terminated")) {
    // Waiting: the last run's log, if there was one.
    if (!lastTerminated) {
      std::string reason = str(at(state, "waiting"), "reason");
      return ApiError::badRequest("container " + quoted + " is waiting to start: " +
                                  (reason.empty() ? "ContainerCreating" : reason));
    }
    usePrevious = true;
  }
  // Each run of a crash-looping container writes the same log: the last
  // terminated instance's is its own annotation, else the running one's.
  std::string text;
  if (usePrevious) {
    const json& annotations = at(at(pod, "metadata"), "annotations");
    std::string key = kPreviousPodLogAnnotationPrefix + container;
    text = at(annotations, key.c_str()).is_string() ? annotation(pod, key) : "";
    if (!at(annotations, key.c_str()).is_string()) {
      text = annotation(pod, kPodLogAnnotationPrefix + container);
    }
  } else {
    text = annotation(pod, kPodLogAnnotationPrefix + container);
  }
  if (query.tailLines) text = tail(text, *query.tailLines);
  if (query.limitBytes && static_cast<uint64_t>(*query.limitBytes) < text.size()) {
    text.resize(static_cast<size_t>(*query.limitBytes));
  }
  return text;
}

}  // namespace remedy::sandbox
