#include "sandbox/protobuf_codec.h"

#include "formats/base64.h"
#include "formats/rfc3339.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace remedy::sandbox {
namespace {

// ---------------------------------------------------------------------------
// Schema: message -> field number -> JSON name -> type.
//
// Field numbers come from the generated.proto files of k8s.io/api and
// k8s.io/apimachinery (cited per block). JSON names are the Go json tags, which
// the .proto field names follow except where noted. Only what kubectl's typed
// clients can send is listed; other field numbers are skipped as unknown.

enum class Kind {
  kString,
  kBool,
  kInt,  // int32 and int64 (varint)
  kMessage,
  kTime,           // metav1.Time {1 seconds, 2 nanos} -> RFC 3339
  kIntOrString,    // intstr.IntOrString {1 type, 2 intVal, 3 strVal}
  kQuantity,       // resource.Quantity {1 string}
  kStringMap,      // map<string, string>
  kBytesMap,       // map<string, bytes>: base64 values, as Go encodes []byte
  kQuantityMap,    // map<string, Quantity> (core/v1 ResourceList)
  kStringListMap,  // map<string, ExtraValue {1 items}>: ExtraValue is []string in JSON
};

// The field is repeated (a JSON list).
constexpr unsigned kRepeated = 1;
// The Go field is a pointer or has no omitempty, so the Go encoder writes its
// zero too (replicas: 0, emptyDir: {}, optional: false). Such fields are on the
// wire exactly when set, so presence decides.
constexpr unsigned kKeep = 2;
// An embedded Go struct with `json:",inline"`: its fields join the parent's
// (Volume.volumeSource, SecretKeySelector.localObjectReference).
constexpr unsigned kInline = 4;

struct Field {
  int number;
  const char* name;
  Kind kind;
  unsigned flags;
  const char* message;  // for kMessage
};

Field str(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kString, flags, nullptr};
}
Field strs(int n, const char* name) { return {n, name, Kind::kString, kRepeated, nullptr}; }
Field boolean(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kBool, flags, nullptr};
}
Field integer(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kInt, flags, nullptr};
}
Field integers(int n, const char* name) { return {n, name, Kind::kInt, kRepeated, nullptr}; }
Field msg(int n, const char* name, const char* message, unsigned flags = 0) {
  return {n, name, Kind::kMessage, flags, message};
}
Field msgs(int n, const char* name, const char* message) {
  return {n, name, Kind::kMessage, kRepeated, message};
}
Field inlined(int n, const char* message) { return {n, "", Kind::kMessage, kInline, message}; }
Field timestamp(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kTime, flags, nullptr};
}
Field intOrString(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kIntOrString, flags, nullptr};
}
Field quantity(int n, const char* name, unsigned flags = 0) {
  return {n, name, Kind::kQuantity, flags, nullptr};
}
Field stringMap(int n, const char* name) { return {n, name, Kind::kStringMap, 0, nullptr}; }
Field bytesMap(int n, const char* name) { return {n, name, Kind::kBytesMap, 0, nullptr}; }
Field quantityMap(int n, const char* name) { return {n, name, Kind::kQuantityMap, 0, nullptr}; }
Field stringListMap(int n, const char* name) { return {n, name, Kind::kStringListMap, 0, nullptr}; }
Field metadata() { return msg(1, "metadata", "ObjectMeta"); }

using Schema = std::unordered_map<std::string, std::vector<Field>>;

const Schema& schema() {
  static const Schema s = {
      // k8s.io/apimachinery pkg/apis/meta/v1/generated.proto. managedFields (17)
      // is left out: servers own it.
      {"ObjectMeta",
       {str(1, "name"), str(2, "generateName"), str(3, "namespace"), str(4, "selfLink"),
        str(5, "uid"), str(6, "resourceVersion"), integer(7, "generation"),
        timestamp(8, "creationTimestamp"), timestamp(9, "deletionTimestamp", kKeep),
        integer(10, "deletionGracePeriodSeconds", kKeep), stringMap(11, "labels"),
        stringMap(12, "annotations"), msgs(13, "ownerReferences", "OwnerReference"),
        strs(14, "finalizers")}},
      {"OwnerReference",
       {str(5, "apiVersion", kKeep), str(1, "kind", kKeep), str(3, "name", kKeep),
        str(4, "uid", kKeep), boolean(6, "controller", kKeep),
        boolean(7, "blockOwnerDeletion", kKeep)}},
      {"LabelSelector",
       {stringMap(1, "matchLabels"), msgs(2, "matchExpressions", "LabelSelectorRequirement")}},
      // FieldSelectorRequirement has the same numbers and names.
      {"LabelSelectorRequirement",
       {str(1, "key", kKeep), str(2, "operator", kKeep), strs(3, "values")}},
      {"DeleteOptions",
       {integer(1, "gracePeriodSeconds", kKeep), msg(2, "preconditions", "Preconditions", kKeep),
        boolean(3, "orphanDependents", kKeep), str(4, "propagationPolicy", kKeep),
        strs(5, "dryRun"), boolean(6, "ignoreStoreReadErrorWithClusterBreakingPotential", kKeep)}},
      {"Preconditions", {str(1, "uid", kKeep), str(2, "resourceVersion", kKeep)}},

      // k8s.io/api core/v1/generated.proto.
      {"ConfigMap",
       {metadata(), stringMap(2, "data"), bytesMap(3, "binaryData"),
        boolean(4, "immutable", kKeep)}},
      {"Secret",
       {metadata(), bytesMap(2, "data"), str(3, "type"), stringMap(4, "stringData"),
        boolean(5, "immutable", kKeep)}},
      {"Namespace", {metadata(), msg(2, "spec", "NamespaceSpec")}},
      {"NamespaceSpec", {strs(1, "finalizers")}},
      {"ServiceAccount",
       {metadata(), msgs(2, "secrets", "ObjectReference"),
        msgs(3, "imagePullSecrets", "LocalObjectReference"),
        boolean(4, "automountServiceAccountToken", kKeep)}},
      {"ObjectReference",
       {str(1, "kind"), str(2, "namespace"), str(3, "name"), str(4, "uid"), str(5, "apiVersion"),
        str(6, "resourceVersion"), str(7, "fieldPath")}},
      {"LocalObjectReference", {str(1, "name")}},
      {"Pod", {metadata(), msg(2, "spec", "PodSpec")}},
      {"PodTemplateSpec", {metadata(), msg(2, "spec", "PodSpec")}},
      {"PodSpec",
       {msgs(1, "volumes", "Volume"),
        msgs(2, "containers", "Container"),
        str(3, "restartPolicy"),
        integer(4, "terminationGracePeriodSeconds", kKeep),
        integer(5, "activeDeadlineSeconds", kKeep),
        str(6, "dnsPolicy"),
        stringMap(7, "nodeSelector"),
        str(8, "serviceAccountName"),
        str(9, "serviceAccount"),
        str(10, "nodeName"),
        boolean(11, "hostNetwork"),
        boolean(12, "hostPID"),
        boolean(13, "hostIPC"),
        msg(14, "securityContext", "PodSecurityContext", kKeep),
        msgs(15, "imagePullSecrets", "LocalObjectReference"),
        str(16, "hostname"),
        str(17, "subdomain"),
        str(19, "schedulerName"),
        msgs(20, "initContainers", "Container"),
        boolean(21, "automountServiceAccountToken", kKeep),
        msgs(22, "tolerations", "Toleration"),
        str(24, "priorityClassName"),
        integer(25, "priority", kKeep),
        boolean(27, "shareProcessNamespace", kKeep),
        str(29, "runtimeClassName", kKeep),
        boolean(30, "enableServiceLinks", kKeep),
        str(31, "preemptionPolicy", kKeep),
        quantityMap(32, "overhead"),
        boolean(35, "setHostnameAsFQDN", kKeep),
        boolean(37, "hostUsers", kKeep)}},
      {"Container",
       {str(1, "name", kKeep), str(2, "image"), strs(3, "command"), strs(4, "args"),
        str(5, "workingDir"), msgs(6, "ports", "ContainerPort"), msgs(7, "env", "EnvVar"),
        msg(8, "resources", "ResourceRequirements"), msgs(9, "volumeMounts", "VolumeMount"),
        str(13, "terminationMessagePath"), str(14, "imagePullPolicy"),
        msg(15, "securityContext", "SecurityContext", kKeep), boolean(16, "stdin"),
        boolean(17, "stdinOnce"), boolean(18, "tty"), msgs(19, "envFrom", "EnvFromSource"),
        str(20, "terminationMessagePolicy"), str(24, "restartPolicy", kKeep)}},
      {"ContainerPort",
       {str(1, "name"), integer(2, "hostPort"), integer(3, "containerPort", kKeep),
        str(4, "protocol"), str(5, "hostIP")}},
      {"EnvVar",
       {str(1, "name", kKeep), str(2, "value"), msg(3, "valueFrom", "EnvVarSource", kKeep)}},
      {"EnvVarSource",
       {msg(1, "fieldRef", "ObjectFieldSelector", kKeep),
        msg(2, "resourceFieldRef", "ResourceFieldSelector", kKeep),
        msg(3, "configMapKeyRef", "ConfigMapKeySelector", kKeep),
        msg(4, "secretKeyRef", "SecretKeySelector", kKeep)}},
      {"ObjectFieldSelector", {str(1, "apiVersion"), str(2, "fieldPath", kKeep)}},
      {"ResourceFieldSelector",
       {str(1, "containerName"), str(2, "resource", kKeep), quantity(3, "divisor")}},
      {"ConfigMapKeySelector",
       {inlined(1, "LocalObjectReference"), str(2, "key", kKeep), boolean(3, "optional", kKeep)}},
      {"SecretKeySelector",
       {inlined(1, "LocalObjectReference"), str(2, "key", kKeep), boolean(3, "optional", kKeep)}},
      {"EnvFromSource",
       {str(1, "prefix"), msg(2, "configMapRef", "ConfigMapEnvSource", kKeep),
        msg(3, "secretRef", "SecretEnvSource", kKeep)}},
      {"ConfigMapEnvSource", {inlined(1, "LocalObjectReference"), boolean(2, "optional", kKeep)}},
      {"SecretEnvSource", {inlined(1, "LocalObjectReference"), boolean(2, "optional", kKeep)}},
      {"ResourceRequirements",
       {quantityMap(1, "limits"), quantityMap(2, "requests"), msgs(3, "claims", "ResourceClaim")}},
      {"ResourceClaim", {str(1, "name", kKeep), str(2, "request")}},
      {"VolumeMount",
       {str(1, "name", kKeep), boolean(2, "readOnly"), str(3, "mountPath", kKeep),
        str(4, "subPath"), str(5, "mountPropagation", kKeep), str(6, "subPathExpr"),
        str(7, "recursiveReadOnly", kKeep)}},
      {"Volume", {str(1, "name", kKeep), inlined(2, "VolumeSource")}},
      {"VolumeSource",
       {msg(1, "hostPath", "HostPathVolumeSource", kKeep),
        msg(2, "emptyDir", "EmptyDirVolumeSource", kKeep),
        msg(6, "secret", "SecretVolumeSource", kKeep),
        msg(10, "persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", kKeep),
        msg(19, "configMap", "ConfigMapVolumeSource", kKeep)}},
      {"HostPathVolumeSource", {str(1, "path", kKeep), str(2, "type", kKeep)}},
      {"EmptyDirVolumeSource", {str(1, "medium"), quantity(2, "sizeLimit", kKeep)}},
      {"SecretVolumeSource",
       {str(1, "secretName"), msgs(2, "items", "KeyToPath"), integer(3, "defaultMode", kKeep),
        boolean(4, "optional", kKeep)}},
      {"ConfigMapVolumeSource",
       {inlined(1, "LocalObjectReference"), msgs(2, "items", "KeyToPath"),
        integer(3, "defaultMode", kKeep), boolean(4, "optional", kKeep)}},
      {"KeyToPath", {str(1, "key", kKeep), str(2, "path", kKeep), integer(3, "mode", kKeep)}},
      {"PersistentVolumeClaimVolumeSource", {str(1, "claimName", kKeep), boolean(2, "readOnly")}},
      {"PodSecurityContext",
       {msg(1, "seLinuxOptions", "SELinuxOptions", kKeep), integer(2, "runAsUser", kKeep),
        boolean(3, "runAsNonRoot", kKeep), integers(4, "supplementalGroups"),
        integer(5, "fsGroup", kKeep), integer(6, "runAsGroup", kKeep),
        str(9, "fsGroupChangePolicy", kKeep), msg(10, "seccompProfile", "SeccompProfile", kKeep)}},
      {"SecurityContext",
       {msg(1, "capabilities", "Capabilities", kKeep), boolean(2, "privileged", kKeep),
        msg(3, "seLinuxOptions", "SELinuxOptions", kKeep), integer(4, "runAsUser", kKeep),
        boolean(5, "runAsNonRoot", kKeep), boolean(6, "readOnlyRootFilesystem", kKeep),
        boolean(7, "allowPrivilegeEscalation", kKeep), integer(8, "runAsGroup", kKeep),
        str(9, "procMount", kKeep), msg(11, "seccompProfile", "SeccompProfile", kKeep)}},
      {"Capabilities", {strs(1, "add"), strs(2, "drop")}},
      {"SELinuxOptions", {str(1, "user"), str(2, "role"), str(3, "type"), str(4, "level")}},
      {"SeccompProfile", {str(1, "type", kKeep), str(2, "localhostProfile", kKeep)}},
      {"Toleration",
       {str(1, "key"), str(2, "operator"), str(3, "value"), str(4, "effect"),
        integer(5, "tolerationSeconds", kKeep)}},
      {"Service", {metadata(), msg(2, "spec", "ServiceSpec")}},
      {"ServiceSpec",
       {msgs(1, "ports", "ServicePort"),
        stringMap(2, "selector"),
        str(3, "clusterIP"),
        str(4, "type"),
        strs(5, "externalIPs"),
        str(7, "sessionAffinity"),
        str(8, "loadBalancerIP"),
        strs(9, "loadBalancerSourceRanges"),
        str(10, "externalName"),
        str(11, "externalTrafficPolicy"),
        integer(12, "healthCheckNodePort"),
        boolean(13, "publishNotReadyAddresses"),
        msg(14, "sessionAffinityConfig", "SessionAffinityConfig", kKeep),
        str(17, "ipFamilyPolicy", kKeep),
        strs(18, "clusterIPs"),
        strs(19, "ipFamilies"),
        boolean(20, "allocateLoadBalancerNodePorts", kKeep),
        str(21, "loadBalancerClass", kKeep),
        str(22, "internalTrafficPolicy", kKeep),
        str(23, "trafficDistribution", kKeep)}},
      {"ServicePort",
       {str(1, "name"), str(2, "protocol"), integer(3, "port", kKeep), intOrString(4, "targetPort"),
        integer(5, "nodePort"), str(6, "appProtocol", kKeep)}},
      {"SessionAffinityConfig", {msg(1, "clientIP", "ClientIPConfig", kKeep)}},
      {"ClientIPConfig", {integer(1, "timeoutSeconds", kKeep)}},

      // k8s.io/api apps/v1/generated.proto.
      {"Deployment", {metadata(), msg(2, "spec", "DeploymentSpec")}},
      {"DeploymentSpec",
       {integer(1, "replicas", kKeep), msg(2, "selector", "LabelSelector", kKeep),
        msg(3, "template", "PodTemplateSpec"), msg(4, "strategy", "DeploymentStrategy"),
        integer(5, "minReadySeconds"), integer(6, "revisionHistoryLimit", kKeep),
        boolean(7, "paused"), integer(9, "progressDeadlineSeconds", kKeep)}},
      {"DeploymentStrategy",
       {str(1, "type"), msg(2, "rollingUpdate", "RollingUpdateDeployment", kKeep)}},
      {"RollingUpdateDeployment",
       {intOrString(1, "maxUnavailable", kKeep), intOrString(2, "maxSurge", kKeep)}},

      // k8s.io/api batch/v1/generated.proto.
      {"Job", {metadata(), msg(2, "spec", "JobSpec")}},
      {"JobSpec",
       {integer(1, "parallelism", kKeep), integer(2, "completions", kKeep),
        integer(3, "activeDeadlineSeconds", kKeep), msg(4, "selector", "LabelSelector", kKeep),
        boolean(5, "manualSelector", kKeep), msg(6, "template", "PodTemplateSpec"),
        integer(7, "backoffLimit", kKeep), integer(8, "ttlSecondsAfterFinished", kKeep),
        str(9, "completionMode", kKeep), boolean(10, "suspend", kKeep),
        integer(12, "backoffLimitPerIndex", kKeep), integer(13, "maxFailedIndexes", kKeep),
        str(14, "podReplacementPolicy", kKeep), str(15, "managedBy", kKeep)}},
      {"JobTemplateSpec", {metadata(), msg(2, "spec", "JobSpec")}},
      {"CronJob", {metadata(), msg(2, "spec", "CronJobSpec")}},
      {"CronJobSpec",
       {str(1, "schedule", kKeep), integer(2, "startingDeadlineSeconds", kKeep),
        str(3, "concurrencyPolicy"), boolean(4, "suspend", kKeep),
        msg(5, "jobTemplate", "JobTemplateSpec"), integer(6, "successfulJobsHistoryLimit", kKeep),
        integer(7, "failedJobsHistoryLimit", kKeep), str(8, "timeZone", kKeep)}},

      // k8s.io/api rbac/v1/generated.proto.
      {"Role", {metadata(), msgs(2, "rules", "PolicyRule")}},
      {"ClusterRole",
       {metadata(), msgs(2, "rules", "PolicyRule"),
        msg(3, "aggregationRule", "AggregationRule", kKeep)}},
      {"AggregationRule", {msgs(1, "clusterRoleSelectors", "LabelSelector")}},
      {"PolicyRule",
       {strs(1, "verbs"), strs(2, "apiGroups"), strs(3, "resources"), strs(4, "resourceNames"),
        strs(5, "nonResourceURLs")}},
      {"RoleBinding",
       {metadata(), msgs(2, "subjects", "Subject"), msg(3, "roleRef", "RoleRef", kKeep)}},
      {"ClusterRoleBinding",
       {metadata(), msgs(2, "subjects", "Subject"), msg(3, "roleRef", "RoleRef", kKeep)}},
      {"Subject",
       {str(1, "kind", kKeep), str(2, "apiGroup"), str(3, "name", kKeep), str(4, "namespace")}},
      {"RoleRef", {str(1, "apiGroup", kKeep), str(2, "kind", kKeep), str(3, "name", kKeep)}},

      // k8s.io/api policy/v1/generated.proto.
      {"PodDisruptionBudget", {metadata(), msg(2, "spec", "PodDisruptionBudgetSpec")}},
      {"PodDisruptionBudgetSpec",
       {intOrString(1, "minAvailable", kKeep), msg(2, "selector", "LabelSelector", kKeep),
        intOrString(3, "maxUnavailable", kKeep), str(4, "unhealthyPodEvictionPolicy", kKeep)}},
      {"Eviction", {metadata(), msg(2, "deleteOptions", "DeleteOptions", kKeep)}},

      // k8s.io/api authorization/v1/generated.proto.
      {"SelfSubjectAccessReview", {metadata(), msg(2, "spec", "SelfSubjectAccessReviewSpec")}},
      {"SelfSubjectAccessReviewSpec",
       {msg(1, "resourceAttributes", "ResourceAttributes", kKeep),
        msg(2, "nonResourceAttributes", "NonResourceAttributes", kKeep)}},
      {"ResourceAttributes",
       {str(1, "namespace"), str(2, "verb"), str(3, "group"), str(4, "version"), str(5, "resource"),
        str(6, "subresource"), str(7, "name"), msg(8, "fieldSelector", "SelectorAttributes", kKeep),
        msg(9, "labelSelector", "SelectorAttributes", kKeep)}},
      // FieldSelectorAttributes and LabelSelectorAttributes: same numbers, and
      // their requirements share LabelSelectorRequirement's shape.
      {"SelectorAttributes",
       {str(1, "rawSelector"), msgs(2, "requirements", "LabelSelectorRequirement")}},
      {"NonResourceAttributes", {str(1, "path"), str(2, "verb")}},
      {"SelfSubjectRulesReview", {metadata(), msg(2, "spec", "SelfSubjectRulesReviewSpec")}},
      {"SelfSubjectRulesReviewSpec", {str(1, "namespace")}},
      {"SubjectAccessReview", {metadata(), msg(2, "spec", "SubjectAccessReviewSpec")}},
      {"SubjectAccessReviewSpec",
       {msg(1, "resourceAttributes", "ResourceAttributes", kKeep),
        msg(2, "nonResourceAttributes", "NonResourceAttributes", kKeep), str(3, "user"),
        strs(4, "groups"), stringListMap(5, "extra"), str(6, "uid")}},

      // k8s.io/api authentication/v1/generated.proto.
      {"SelfSubjectReview", {metadata()}},
      {"TokenRequest", {metadata(), msg(2, "spec", "TokenRequestSpec")}},
      {"TokenRequestSpec",
       {strs(1, "audiences"), msg(3, "boundObjectRef", "BoundObjectReference", kKeep),
        integer(4, "expirationSeconds", kKeep)}},
      // The .proto names field 4 "uID"; the json tag is "uid".
      {"BoundObjectReference",
       {str(1, "kind"), str(2, "apiVersion"), str(3, "name"), str(4, "uid")}},
      {"TokenReview", {metadata(), msg(2, "spec", "TokenReviewSpec")}},
      {"TokenReviewSpec", {str(1, "token"), strs(2, "audiences")}},
  };
  return s;
}

// "apiVersion/kind" of runtime.Unknown's typeMeta -> top-level message.
const std::unordered_map<std::string, std::string>& kinds() {
  static const auto k = [] {
    std::unordered_map<std::string, std::string> m = {
        {"v1/ConfigMap", "ConfigMap"},
        {"v1/Secret", "Secret"},
        {"v1/Namespace", "Namespace"},
        {"v1/ServiceAccount", "ServiceAccount"},
        {"v1/Pod", "Pod"},
        {"v1/Service", "Service"},
        {"apps/v1/Deployment", "Deployment"},
        {"batch/v1/Job", "Job"},
        {"batch/v1/CronJob", "CronJob"},
        {"rbac.authorization.k8s.io/v1/Role", "Role"},
        {"rbac.authorization.k8s.io/v1/ClusterRole", "ClusterRole"},
        {"rbac.authorization.k8s.io/v1/RoleBinding", "RoleBinding"},
        {"rbac.authorization.k8s.io/v1/ClusterRoleBinding", "ClusterRoleBinding"},
        {"policy/v1/PodDisruptionBudget", "PodDisruptionBudget"},
        {"policy/v1/Eviction", "Eviction"},
        {"authorization.k8s.io/v1/SelfSubjectAccessReview", "SelfSubjectAccessReview"},
        {"authorization.k8s.io/v1/SelfSubjectRulesReview", "SelfSubjectRulesReview"},
        {"authorization.k8s.io/v1/SubjectAccessReview", "SubjectAccessReview"},
        {"authentication.k8s.io/v1/SelfSubjectReview", "SelfSubjectReview"},
        {"authentication.k8s.io/v1/TokenRequest", "TokenRequest"},
        {"authentication.k8s.io/v1/TokenReview", "TokenReview"},
    };
    // A typed client's Delete sends metav1.DeleteOptions as the body, tagged
    // with the group version of the resource it deletes.
    for (const char* gv :
         {"v1", "meta.k8s.io/v1", "apps/v1", "batch/v1", "policy/v1",
          "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1", "apiextensions.k8s.io/v1"}) {
      m.emplace(std::string(gv) + "/DeleteOptions", "DeleteOptions");
    }
    return m;
  }();
  return k;
}

// ---------------------------------------------------------------------------
// Wire format (protobuf encoding: varints, tags, length-delimited fields).

constexpr int kVarint = 0;
constexpr int kFixed64 = 1;
constexpr int kLengthDelimited = 2;
// 3 and 4 start and end a group (proto2): refused, see Reader::skip.
constexpr int kFixed32 = 5;

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  bool varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      auto byte = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;
  }

  bool tag(int* number, int* wireType) {
    uint64_t t;
    if (!varint(&t)) return false;
    *number = static_cast<int>(t >> 3);
    *wireType = static_cast<int>(t & 7);
    return *number > 0 && t >> 3 <= 0x1fffffff;
  }

  bool bytes(std::string_view* out) {
    uint64_t n;
    if (!varint(&n) || n > data_.size() - pos_) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool skipFixed(size_t n) {
    if (n > data_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  // Skips a field of an unknown number. Groups are proto2 relics no
  // Kubernetes message uses; they are refused rather than walked.
  bool skip(int wireType) {
    uint64_t ignored;
    std::string_view ignoredBytes;
    switch (wireType) {
      case kVarint:
        return varint(&ignored);
      case kFixed64:
        return skipFixed(8);
      case kLengthDelimited:
        return bytes(&ignoredBytes);
      case kFixed32:
        return skipFixed(4);
      default:
        return false;
    }
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Values.

// Go's JSON encoder writes invalid UTF-8 as U+FFFD; nlohmann::json would throw
// when the object is dumped, so strings are repaired here the same way.
std::string utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<uint8_t>(in[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= in.size();
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<uint8_t>(in[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = cp << 6 | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))) {
      ok = false;
    }
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

bool isZero(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return true;
    case json::value_t::string:
      return v.get_ref<const std::string&>().empty();
    case json::value_t::boolean:
      return !v.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.get<int64_t>() == 0;
    case json::value_t::object:
    case json::value_t::array:
      return v.empty();
    default:
      return false;
  }
}

class Decoder {
 public:
  Result<json> message(std::string_view data, const std::string& name, int depth) {
    auto spec = schema().find(name);
    if (spec == schema().end()) return ApiError::internal("protobuf schema lacks " + name);
    // The table has no cycles; the bound guards against one added later.
    if (depth > 32) return malformed(name, "nesting too deep");
    const std::vector<Field>& fields = spec->second;
    json out = json::object();
    Reader r(data);
    while (!r.done()) {
      int number, wireType;
      if (!r.tag(&number, &wireType)) return malformed(name, "bad tag");
      const Field* f = nullptr;
      for (const Field& candidate : fields) {
        if (candidate.number == number) f = &candidate;
      }
      if (f == nullptr) {
        if (!r.skip(wireType)) return malformed(name, "bad field " + std::to_string(number));
        continue;
      }
      auto err = field(r, *f, wireType, name, depth, out);
      if (err) return *err;
    }
    // omitempty: drop the zero values Go would not have written.
    for (const Field& f : fields) {
      if (f.flags & kInline) continue;
      auto it = out.find(f.name);
      if (it == out.end()) continue;
      if (it->is_null() || (!(f.flags & kKeep) && isZero(*it))) out.erase(it);
    }
    return out;
  }

 private:
  static ApiError malformed(const std::string& message, const std::string& what) {
    return ApiError::badRequest("unable to decode the protobuf body: " + message + ": " + what);
  }

  // Decodes one occurrence of `f` into `out`; an error, or nullopt.
  std::optional<ApiError> field(Reader& r, const Field& f, int wireType, const std::string& name,
                                int depth, json& out) {
    std::string where = name + "." + (f.flags & kInline ? std::string(f.message) : f.name);
    if (f.kind == Kind::kBool || f.kind == Kind::kInt) {
      if (wireType == kLengthDelimited && (f.flags & kRepeated)) {
        // A packed repeated scalar.
        std::string_view packed;
        if (!r.bytes(&packed)) return malformed(where, "truncated");
        Reader pr(packed);
        while (!pr.done()) {
          uint64_t v;
          if (!pr.varint(&v)) return malformed(where, "bad varint");
          out[f.name].push_back(scalar(f.kind, v));
        }
        return std::nullopt;
      }
      uint64_t v;
      if (wireType != kVarint || !r.varint(&v)) return malformed(where, "not a varint");
      put(f, scalar(f.kind, v), out);
      return std::nullopt;
    }
    std::string_view bytes;
    if (wireType != kLengthDelimited || !r.bytes(&bytes)) {
      return malformed(where, "not length-delimited");
    }
    switch (f.kind) {
      case Kind::kString:
        put(f, utf8(bytes), out);
        return std::nullopt;
      case Kind::kMessage: {
        auto v = message(bytes, f.message, depth + 1);
        if (!v.ok()) return v.error();
        if (f.flags & kInline) {
          for (auto& [k, child] : v->items()) out[k] = std::move(child);
        } else {
          put(f, std::move(*v), out);
        }
        return std::nullopt;
      }
      case Kind::kTime: {
        auto v = time(bytes);
        if (!v.ok()) return malformed(where, v.error().message);
        put(f, std::move(*v), out);
        return std::nullopt;
      }
      case Kind::kIntOrString: {
        auto v = intOrString(bytes);
        if (!v.ok()) return malformed(where, v.error().message);
        put(f, std::move(*v), out);
        return std::nullopt;
      }
      case Kind::kQuantity: {
        auto v = quantity(bytes);
        if (!v.ok()) return malformed(where, v.error().message);
        put(f, std::move(*v), out);
        return std::nullopt;
      }
      default:
        return mapEntry(bytes, f, where, out);
    }
  }

  static json scalar(Kind kind, uint64_t v) {
    // Negative int32 and int64 are ten-byte two's complement varints.
    if (kind == Kind::kBool) return v != 0;
    return static_cast<int64_t>(v);
  }

  static void put(const Field& f, json v, json& out) {
    if (f.flags & kRepeated) {
      out[f.name].push_back(std::move(v));
    } else {
      out[f.name] = std::move(v);  // proto: the last occurrence wins
    }
  }

  // A map entry message {1 key, 2 value}.
  std::optional<ApiError> mapEntry(std::string_view entry, const Field& f, const std::string& where,
                                   json& out) {
    std::string key;
    json value;
    switch (f.kind) {
      case Kind::kStringListMap:
        value = json::array();
        break;
      default:
        value = "";
        break;
    }
    Reader r(entry);
    while (!r.done()) {
      int number, wireType;
      if (!r.tag(&number, &wireType)) return malformed(where, "bad map entry");
      if ((number != 1 && number != 2) || wireType != kLengthDelimited) {
        if (!r.skip(wireType)) return malformed(where, "bad map entry");
        continue;
      }
      std::string_view bytes;
      if (!r.bytes(&bytes)) return malformed(where, "truncated map entry");
      if (number == 1) {
        key = utf8(bytes);
        continue;
      }
      switch (f.kind) {
        case Kind::kStringMap:
          value = utf8(bytes);
          break;
        case Kind::kBytesMap:
          value = formats::encodeBase64(bytes);
          break;
        case Kind::kQuantityMap: {
          auto q = quantity(bytes);
          if (!q.ok()) return malformed(where, q.error().message);
          value = std::move(*q);
          break;
        }
        default: {  // ExtraValue {1 items repeated string}
          Reader items(bytes);
          while (!items.done()) {
            int n, wt;
            std::string_view item;
            if (!items.tag(&n, &wt)) return malformed(where, "bad list value");
            if (n != 1 || wt != kLengthDelimited) {
              if (!items.skip(wt)) return malformed(where, "bad list value");
              continue;
            }
            if (!items.bytes(&item)) return malformed(where, "truncated list value");
            value.push_back(utf8(item));
          }
          break;
        }
      }
    }
    out[f.name][key] = std::move(value);
    return std::nullopt;
  }

  // metav1.Time: an empty message is the zero time, which Go writes as null.
  static Result<json> time(std::string_view data) {
    int64_t seconds = 0;
    bool any = false;
    Reader r(data);
    while (!r.done()) {
      int number, wireType;
      uint64_t v;
      if (!r.tag(&number, &wireType)) return ApiError::badRequest("bad time");
      if (number == 1 && wireType == kVarint) {
        if (!r.varint(&v)) return ApiError::badRequest("bad time");
        seconds = static_cast<int64_t>(v);
        any = true;
      } else if (!r.skip(wireType)) {  // nanos: metav1.Time JSON has whole seconds
        return ApiError::badRequest("bad time");
      }
    }
    if (!any) return json(nullptr);
    return json(formats::formatRfc3339(formats::WallTime(std::chrono::seconds(seconds))));
  }

  // intstr.IntOrString: type 1 is a string, anything else an int.
  static Result<json> intOrString(std::string_view data) {
    int64_t type = 0, intVal = 0;
    std::string strVal;
    Reader r(data);
    while (!r.done()) {
      int number, wireType;
      if (!r.tag(&number, &wireType)) return ApiError::badRequest("bad int-or-string");
      uint64_t v;
      std::string_view s;
      if ((number == 1 || number == 2) && wireType == kVarint) {
        if (!r.varint(&v)) return ApiError::badRequest("bad int-or-string");
        (number == 1 ? type : intVal) = static_cast<int32_t>(v);
      } else if (number == 3 && wireType == kLengthDelimited) {
        if (!r.bytes(&s)) return ApiError::badRequest("bad int-or-string");
        strVal = utf8(s);
      } else if (!r.skip(wireType)) {
        return ApiError::badRequest("bad int-or-string");
      }
    }
    if (type == 1) return json(strVal);
    return json(intVal);
  }

  // resource.Quantity {1 string}: the canonical string, as its JSON form.
  static Result<json> quantity(std::string_view data) {
    std::string value;
    Reader r(data);
    while (!r.done()) {
      int number, wireType;
      if (!r.tag(&number, &wireType)) return ApiError::badRequest("bad quantity");
      std::string_view s;
      if (number == 1 && wireType == kLengthDelimited) {
        if (!r.bytes(&s)) return ApiError::badRequest("bad quantity");
        value = utf8(s);
      } else if (!r.skip(wireType)) {
        return ApiError::badRequest("bad quantity");
      }
    }
    return json(value);
  }
};

struct Unknown {
  std::string apiVersion;
  std::string kind;
  std::string_view raw;
  std::string contentEncoding;
};

// runtime.Unknown (apimachinery pkg/runtime/generated.proto): 1 typeMeta
// {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
std::optional<Unknown> parseUnknown(std::string_view data) {
  Unknown u;
  Reader r(data);
  while (!r.done()) {
    int number, wireType;
    if (!r.tag(&number, &wireType)) return std::nullopt;
    std::string_view bytes;
    if (wireType != kLengthDelimited || number < 1 || number > 3) {
      if (!r.skip(wireType)) return std::nullopt;
      continue;
    }
    if (!r.bytes(&bytes)) return std::nullopt;
    if (number == 2) {
      u.raw = bytes;
    } else if (number == 3) {
      u.contentEncoding = std::string(bytes);
    } else {
      Reader tm(bytes);
      while (!tm.done()) {
        int n, wt;
        std::string_view s;
        if (!tm.tag(&n, &wt)) return std::nullopt;
        if ((n == 1 || n == 2) && wt == kLengthDelimited) {
          if (!tm.bytes(&s)) return std::nullopt;
          (n == 1 ? u.apiVersion : u.kind) = utf8(s);
        } else if (!tm.skip(wt)) {
          return std::nullopt;
        }
      }
    }
  }
  return u;
}

constexpr std::string_view kMagic("k8s\0", 4);
constexpr const char* kMediaType = "application/vnd.kubernetes.protobuf";

ApiError unsupported(const std::string& message) {
  ApiError e = ApiError::unsupportedMediaType(kMediaType);
  e.message = message;
  return e;
}

}  // namespace

bool isKubernetesProtobuf(const std::string& contentType) {
  std::string mediaType = contentType.substr(0, contentType.find(';'));
  while (!mediaType.empty() && mediaType.back() == ' ') mediaType.pop_back();
  for (char& c : mediaType) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return mediaType == kMediaType;
}

Result<json> decodeKubernetesProtobuf(const std::string& body) {
  std::string_view data(body);
  if (data.substr(0, kMagic.size()) != kMagic) {
    return ApiError::badRequest(
        "unable to decode the protobuf body: it does not start with the k8s magic bytes");
  }
  auto unknown = parseUnknown(data.substr(kMagic.size()));
  if (!unknown) return ApiError::badRequest("unable to decode the protobuf body: bad envelope");
  if (!unknown->contentEncoding.empty()) {
    return unsupported("protobuf bodies with content encoding \"" + unknown->contentEncoding +
                       "\" are not supported");
  }
  if (unknown->kind.empty() || unknown->apiVersion.empty()) {
    return ApiError::badRequest(
        "unable to decode the protobuf body: the envelope names no apiVersion and kind");
  }
  std::string key = unknown->apiVersion + "/" + unknown->kind;
  auto it = kinds().find(key);
  if (it == kinds().end()) {
    return unsupported("the sandbox cannot decode " + unknown->apiVersion + ", Kind=" +
                       unknown->kind + " from " + kMediaType + "; send application/json");
  }
  auto object = Decoder().message(unknown->raw, it->second, 0);
  if (!object.ok()) return object;
  (*object)["apiVersion"] = unknown->apiVersion;
  (*object)["kind"] = unknown->kind;
  return object;
}

std::vector<std::string> protobufDecodableKinds() {
  std::vector<std::string> out;
  for (const auto& [key, message] : kinds()) out.push_back(key);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace remedy::sandbox
