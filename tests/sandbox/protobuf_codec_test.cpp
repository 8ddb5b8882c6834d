#include "sandbox/protobuf_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace remedy::sandbox {
namespace {

// ---------------------------------------------------------------------------
// Fixtures: bodies kubectl 1.32 sent (see testdata/protobuf/README.md).

std::string fixturePath(const std::string& file) {
  return std::string(REMEDY_SOURCE_DIR) + "/tests/sandbox/testdata/protobuf/" + file;
}

std::string readFile(const std::string& file) {
  std::ifstream in(fixturePath(file), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << file;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json decodeFixture(const std::string& name) {
  auto r = decodeKubernetesProtobuf(readFile(name + ".pb"));
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : json();
}

// What the decoder and kubectl's JSON printer agree on: Go prints null for a
// zero metav1.Time and {} for empty structs, which the decoder leaves out.
json meaningful(const json& v) {
  if (v.is_object()) {
    json out = json::object();
    for (const auto& [k, child] : v.items()) {
      json c = meaningful(child);
      if (c.is_null() || ((c.is_object() || c.is_array()) && c.empty())) continue;
      out[k] = std::move(c);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& e : v) out.push_back(meaningful(e));
    return out;
  }
  return v;
}

bool hasNull(const json& v) {
  if (v.is_null()) return true;
  if (v.is_structured()) {
    for (const auto& child : v) {
      if (hasNull(child)) return true;
    }
  }
  return false;
}

class KubectlBody : public ::testing::TestWithParam<const char*> {};

TEST_P(KubectlBody, DecodesToWhatKubectlDryRunPrints) {
  std::string name = GetParam();
  json decoded = decodeFixture(name);
  json expected = json::parse(readFile(name + ".json"));
  // kubectl prints the zero status of the typed object; nothing sends one.
  expected.erase("status");
  EXPECT_EQ(meaningful(decoded).dump(2), meaningful(expected).dump(2));
  EXPECT_FALSE(hasNull(decoded)) << decoded.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Kubectl132, KubectlBody,
    ::testing::Values("configmap", "configmap-binary", "secret", "secret-binary", "secret-docker",
                      "namespace", "serviceaccount", "role", "role-names", "clusterrole",
                      "clusterrole-aggregate", "rolebinding", "clusterrolebinding", "deployment",
                      "deployment-zero", "job", "cronjob", "service-clusterip", "service-headless",
                      "service-nodeport", "service-externalname", "pdb-min", "pdb-max"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

TEST(ProtobufFixtures, KeepsEmptyValuesAndNonAsciiText) {
  json cm = decodeFixture("configmap");
  EXPECT_EQ(cm["apiVersion"], "v1");
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["data"]["empty"], "");  // a map value is kept even when empty
  EXPECT_EQ(cm["data"]["greeting"], "h\xc3\xa9llo");
  EXPECT_FALSE(cm["metadata"].contains("creationTimestamp"));
}

TEST(ProtobufFixtures, BytesAreBase64) {
  EXPECT_EQ(decodeFixture("secret")["data"]["password"], "cEBzczp3MHJkIQ==");
  json bin = decodeFixture("configmap-binary");
  EXPECT_EQ(bin["data"]["text"], "hi");
  ASSERT_TRUE(bin["binaryData"].contains("blob.bin"));
  EXPECT_EQ(decodeFixture("secret-docker")["type"], "kubernetes.io/dockerconfigjson");
}

TEST(ProtobufFixtures, PointerZeroIsKept) {
  json d = decodeFixture("deployment-zero");
  ASSERT_TRUE(d["spec"].contains("replicas"));
  EXPECT_EQ(d["spec"]["replicas"], 0);
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["command"],
            json::parse(R"(["sleep", "3600"])"));
}

TEST(ProtobufFixtures, EmptyStringsInListsAreKept) {
  json role = decodeFixture("role");
  // The core group is "" and must survive: it is what makes the rule match pods.
  EXPECT_EQ(role["rules"][0]["apiGroups"], json::parse(R"([""])"));
  EXPECT_EQ(role["rules"][0]["resources"], json::parse(R"(["pods", "pods/log"])"));
}

TEST(ProtobufFixtures, IntOrStringBecomesNumberOrString) {
  json svc = decodeFixture("service-clusterip");
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["spec"]["ports"][1]["targetPort"], "https");
  EXPECT_EQ(decodeFixture("pdb-min")["spec"]["minAvailable"], "50%");
  EXPECT_EQ(decodeFixture("pdb-max")["spec"]["maxUnavailable"], 1);
}

TEST(ProtobufFixtures, DebugCopyCarriesThePodSpec) {
  json copy = decodeFixture("pod-debug-copy");
  json source = json::parse(readFile("pod-debug-copy.source.json"));
  EXPECT_EQ(copy["kind"], "Pod");
  EXPECT_EQ(copy["metadata"]["name"], "full-copy");
  EXPECT_EQ(copy["metadata"]["annotations"], source["metadata"]["annotations"]);
  const json& spec = copy["spec"];
  const json& want = source["spec"];
  EXPECT_EQ(meaningful(spec.at("volumes")), meaningful(want.at("volumes")));
  EXPECT_EQ(spec.at("volumes").at(1).at("emptyDir"), json::object());  // a pointer: {} stays
  EXPECT_EQ(meaningful(spec.at("containers").at(0)), meaningful(want.at("containers").at(0)));
  EXPECT_EQ(meaningful(spec.at("initContainers")), meaningful(want.at("initContainers")));
  for (const char* key : {"nodeName", "nodeSelector", "serviceAccountName", "securityContext",
                          "tolerations", "restartPolicy", "dnsPolicy"}) {
    EXPECT_EQ(spec.value(key, json()), want.value(key, json())) << key;
  }
  EXPECT_EQ(spec.value("terminationGracePeriodSeconds", json()), 0);
  EXPECT_EQ(spec.value("shareProcessNamespace", json()), true);
  const json& containers = spec.at("containers");
  EXPECT_EQ(containers.at(0).at("env").at(2).at("valueFrom").at("secretKeyRef"),
            json::parse(R"({"name": "db-creds", "key": "password", "optional": false})"));
  EXPECT_EQ(containers.at(1).at("name"), "dbg");
  EXPECT_EQ(containers.at(1).at("command"), json::parse(R"(["sleep", "1d"])"));
}

TEST(ProtobufFixtures, AccessReviews) {
  EXPECT_EQ(decodeFixture("can-i"), json::parse(R"({
    "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
    "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                                    "resource": "pods"}}})"));
  EXPECT_EQ(decodeFixture("can-i-sub")["spec"]["resourceAttributes"], json::parse(R"({
    "namespace": "team-a", "verb": "get", "resource": "pods", "subresource": "log"})"));
  EXPECT_EQ(decodeFixture("can-i-name")["spec"]["resourceAttributes"], json::parse(R"({
    "namespace": "default", "verb": "get", "resource": "configmaps",
    "name": "app-config"})"));
  EXPECT_EQ(decodeFixture("can-i-nonresource")["spec"],
            json::parse(R"({"nonResourceAttributes": {"path": "/logs/kube.log",
                                                      "verb": "get"}})"));
  EXPECT_EQ(decodeFixture("can-i-list"), json::parse(R"({
    "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
    "spec": {"namespace": "team-a"}})"));
  EXPECT_EQ(decodeFixture("whoami"), json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})"));
}

TEST(ProtobufFixtures, TokenRequests) {
  EXPECT_EQ(decodeFixture("token"), json::parse(R"({
    "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
    "spec": {"audiences": ["api", "vault"], "expirationSeconds": 600}})"));
  EXPECT_EQ(decodeFixture("token-bound")["spec"]["boundObjectRef"], json::parse(R"({
    "kind": "Pod", "apiVersion": "v1", "name": "nginx",
    "uid": "0d4691ed-659b-4935-a832-355f77ee47cc"})"));
}

// Every prefix of a real body, and every single-byte corruption, is either
// decoded or refused with a 400; never a crash or an exception.
TEST(ProtobufFixtures, DamagedBodiesAreRefusedCleanly) {
  for (const char* name : {"deployment", "pod-debug-copy", "secret-docker", "rolebinding"}) {
    std::string body = readFile(std::string(name) + ".pb");
    for (size_t n = 0; n < body.size(); ++n) {
      auto r = decodeKubernetesProtobuf(body.substr(0, n));
      if (!r.ok()) {
        EXPECT_EQ(r.error().code, 400) << name << " cut at " << n;
      }
    }
    for (size_t i = 4; i < body.size(); ++i) {
      for (unsigned char x : {0x00, 0x80, 0xff, 0x07}) {
        std::string damaged = body;
        damaged[i] = static_cast<char>(x);
        auto r = decodeKubernetesProtobuf(damaged);
        if (r.ok()) {
          EXPECT_NO_THROW(r->dump()) << name << " byte " << i;
        } else {
          EXPECT_TRUE(r.error().code == 400 || r.error().code == 415) << r.error().message;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Hand-built bodies for what kubectl's fixtures do not carry. Field numbers are
// those of the generated.proto files the schema cites.

std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string tag(int number, int wireType) {
  return varint(static_cast<uint64_t>(number) << 3 | static_cast<uint64_t>(wireType));
}
std::string num(int number, int64_t v) { return tag(number, 0) + varint(static_cast<uint64_t>(v)); }
std::string len(int number, const std::string& bytes) {
  return tag(number, 2) + varint(bytes.size()) + bytes;
}
std::string entry(int number, const std::string& key, const std::string& value) {
  return len(number, len(1, key) + len(2, value));
}
std::string envelope(const std::string& apiVersion, const std::string& kind, const std::string& raw,
                     const std::string& contentEncoding = "") {
  return std::string("k8s\0", 4) + len(1, len(1, apiVersion) + len(2, kind)) + len(2, raw) +
         len(3, contentEncoding) + len(4, "");
}

json decode(const std::string& body) {
  auto r = decodeKubernetesProtobuf(body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : json();
}

TEST(ProtobufCodec, ObjectMetaInFull) {
  std::string owner = len(5, "apps/v1") + len(1, "ReplicaSet") + len(3, "web-1") + len(4, "uid-1") +
                      num(6, 1) + num(7, 0);
  std::string meta = len(1, "web-1-abc") + len(2, "web-1-") + len(3, "prod") + len(4, "") +
                     len(5, "uid-2") + len(6, "42") + num(7, 3) +
                     len(8, num(1, 1700000000) + num(2, 5)) +  // creationTimestamp
                     len(9, num(1, 951782400)) +               // deletionTimestamp
                     num(10, 0) + entry(11, "app", "web") + entry(11, "empty", "") +
                     entry(12, "note", "x") + len(13, owner) + len(14, "example.com/a") +
                     len(14, "example.com/b") + len(17, "managed fields are skipped");
  json pod = decode(envelope("v1", "Pod", len(1, meta)));
  EXPECT_EQ(pod["metadata"], json::parse(R"({
    "name": "web-1-abc", "generateName": "web-1-", "namespace": "prod", "uid": "uid-2",
    "resourceVersion": "42", "generation": 3,
    "creationTimestamp": "2023-11-14T22:13:20Z", "deletionTimestamp": "2000-02-29T00:00:00Z",
    "deletionGracePeriodSeconds": 0,
    "labels": {"app": "web", "empty": ""}, "annotations": {"note": "x"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                         "uid": "uid-1", "controller": true, "blockOwnerDeletion": false}],
    "finalizers": ["example.com/a", "example.com/b"]})"));
}

TEST(ProtobufCodec, ZeroTimeIsLeftOutAndEpochIsNot) {
  json zero = decode(envelope("v1", "Namespace", len(1, len(1, "a") + len(8, ""))));
  EXPECT_EQ(zero["metadata"], json::parse(R"({"name": "a"})"));
  json epoch = decode(envelope("v1", "Namespace", len(1, len(8, num(1, 0)))));
  EXPECT_EQ(epoch["metadata"]["creationTimestamp"], "1970-01-01T00:00:00Z");
  json before = decode(envelope("v1", "Namespace", len(1, len(8, num(1, -86401)))));
  EXPECT_EQ(before["metadata"]["creationTimestamp"], "1969-12-30T23:59:59Z");
}

TEST(ProtobufCodec, UnknownFieldsOfEveryWireTypeAreSkipped) {
  std::string unknown = num(90, 7) + tag(91, 1) + std::string(8, 'x') + len(92, "skip me") +
                        tag(93, 5) + std::string(4, 'y');
  std::string raw = unknown + len(1, len(1, "cm") + unknown) + entry(2, "k", "v") + unknown;
  std::string body = std::string("k8s\0", 4) + num(9, 1) +
                     len(1, len(1, "v1") + len(2, "ConfigMap") + len(7, "x")) + len(2, raw);
  EXPECT_EQ(decode(body), json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "cm"}, "data": {"k": "v"}})"));
}

TEST(ProtobufCodec, NegativeAndPackedIntegers) {
  // int32 -1 is a ten-byte varint; supplementalGroups may come packed.
  std::string packed = varint(1000) + varint(2000);
  std::string podSpec = num(25, -1) + len(14, len(4, packed) + num(4, 3000));
  json pod = decode(envelope("v1", "Pod", len(2, podSpec)));
  EXPECT_EQ(pod["spec"]["priority"], -1);
  EXPECT_EQ(pod["spec"]["securityContext"]["supplementalGroups"],
            json::parse("[1000, 2000, 3000]"));
}

TEST(ProtobufCodec, ZeroValuesFollowGoOmitempty) {
  // Go always writes non-pointer fields; their zero is left out unless the
  // json tag has no omitempty (containerPort, name) or the field is a pointer.
  std::string port = len(1, "") + num(2, 0) + num(3, 0) + len(4, "");
  std::string container = len(1, "") + len(2, "") + len(6, port) + len(8, "") + num(16, 0);
  std::string podSpec = len(2, container) + len(3, "") + num(11, 0) + num(4, 30) +
                        num(30, 0);  // terminationGracePeriodSeconds, enableServiceLinks
  json pod = decode(envelope("v1", "Pod", len(1, "") + len(2, podSpec) + len(3, "")));
  EXPECT_EQ(pod, json::parse(R"({"apiVersion": "v1", "kind": "Pod", "spec": {
    "containers": [{"name": "", "ports": [{"containerPort": 0}]}],
    "terminationGracePeriodSeconds": 30, "enableServiceLinks": false}})"));
}

TEST(ProtobufCodec, IntOrStringForms) {
  auto port = [](const std::string& targetPort) {
    std::string spec = len(1, num(3, 80) + len(4, targetPort));
    return decode(envelope("v1", "Service", len(2, spec)))["spec"]["ports"][0];
  };
  EXPECT_EQ(port(num(1, 0) + num(2, 8080) + len(3, "")), json::parse(R"({
    "port": 80, "targetPort": 8080})"));
  EXPECT_EQ(port(num(1, 1) + num(2, 0) + len(3, "http")), json::parse(R"({
    "port": 80, "targetPort": "http"})"));
  // A zero IntOrString is not a pointer here: left out, as omitempty does for 0.
  EXPECT_EQ(port(num(1, 0) + num(2, 0) + len(3, "")), json::parse(R"({"port": 80})"));
  // PodDisruptionBudgetSpec.minAvailable is a pointer: 0 stays.
  json pdb = decode(envelope("policy/v1", "PodDisruptionBudget", len(2, len(1, num(2, 0)))));
  EXPECT_EQ(pdb["spec"]["minAvailable"], 0);
}

TEST(ProtobufCodec, QuantitiesAndVolumeSources) {
  std::string resources = entry(1, "cpu", len(1, "500m")) + entry(2, "memory", len(1, "1Gi"));
  std::string mount = len(1, "cfg") + len(3, "/etc/cfg") + num(2, 1);
  std::string container = len(1, "app") + len(8, resources) + len(9, mount);
  std::string volumes = len(1, len(1, "cfg") + len(2, len(19, len(1, len(1, "app-config"))))) +
                        len(1, len(1, "tmp") + len(2, len(2, len(2, len(1, "64Mi"))))) +
                        len(1, len(1, "s") + len(2, len(6, len(1, "creds") + num(4, 0))));
  json pod = decode(envelope("v1", "Pod", len(2, len(2, container) + volumes)));
  EXPECT_EQ(pod["spec"]["containers"][0], json::parse(R"({
    "name": "app", "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "1Gi"}},
    "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true}]})"));
  EXPECT_EQ(pod["spec"]["volumes"], json::parse(R"([
    {"name": "cfg", "configMap": {"name": "app-config"}},
    {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    {"name": "s", "secret": {"secretName": "creds", "optional": false}}])"));
}

TEST(ProtobufCodec, EnvSources) {
  std::string env = len(7, len(1, "A") + len(3, len(3, len(1, len(1, "cm")) + len(2, "k")))) +
                    len(19, len(1, "P_") + len(3, len(1, len(1, "sec"))));
  json pod = decode(envelope("v1", "Pod", len(2, len(2, len(1, "c") + env))));
  EXPECT_EQ(pod["spec"]["containers"][0], json::parse(R"({"name": "c",
    "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}],
    "envFrom": [{"prefix": "P_", "secretRef": {"name": "sec"}}]})"));
}

TEST(ProtobufCodec, DeploymentStrategyAndSelectorExpressions) {
  std::string requirement = len(1, "tier") + len(2, "In") + len(3, "fe") + len(3, "be");
  std::string selector = entry(1, "app", "web") + len(2, requirement);
  std::string strategy =
      len(1, "RollingUpdate") + len(2, len(1, num(1, 1) + len(3, "25%")) + len(2, num(2, 1)));
  std::string spec = num(1, 2) + len(2, selector) + len(4, strategy) + num(6, 5);
  json d = decode(envelope("apps/v1", "Deployment", len(2, spec)));
  EXPECT_EQ(d["spec"], json::parse(R"({"replicas": 2, "revisionHistoryLimit": 5,
    "selector": {"matchLabels": {"app": "web"},
                 "matchExpressions": [{"key": "tier", "operator": "In",
                                       "values": ["fe", "be"]}]},
    "strategy": {"type": "RollingUpdate",
                 "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}}})"));
}

TEST(ProtobufCodec, EvictionAndSubjectAccessReview) {
  std::string options = num(1, 0) + len(2, len(1, "uid-1")) + len(4, "Foreground");
  json ev = decode(envelope("policy/v1", "Eviction", len(1, len(1, "web-1")) + len(2, options)));
  EXPECT_EQ(ev, json::parse(R"({"apiVersion": "policy/v1", "kind": "Eviction",
    "metadata": {"name": "web-1"},
    "deleteOptions": {"gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"},
                      "propagationPolicy": "Foreground"}})"));

  std::string extra = len(5, len(1, "scopes") + len(2, len(1, "a") + len(1, "b")));
  std::string spec =
      len(1, len(2, "get") + len(5, "pods")) + len(3, "jane") + len(4, "devs") + extra;
  json sar = decode(envelope("authorization.k8s.io/v1", "SubjectAccessReview", len(2, spec)));
  EXPECT_EQ(sar["spec"], json::parse(R"({"resourceAttributes": {"verb": "get",
    "resource": "pods"}, "user": "jane", "groups": ["devs"],
    "extra": {"scopes": ["a", "b"]}})"));
}

TEST(ProtobufCodec, ClusterRoleAggregationAndRoleBinding) {
  std::string cr =
      len(2, len(1, "get") + len(2, "") + len(3, "pods")) + len(3, len(1, entry(1, "agg", "true")));
  EXPECT_EQ(decode(envelope("rbac.authorization.k8s.io/v1", "ClusterRole", cr)),
            json::parse(R"({"apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
    "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]}})"));
}

TEST(ProtobufCodec, InvalidUtf8BecomesReplacementCharacter) {
  // 0xff starts no character; 0xc3 is a lead byte cut short by the end.
  std::string raw = len(1, len(1, "cm")) + entry(2, "k", "a\xff!\xc3");
  json cm = decode(envelope("v1", "ConfigMap", raw));
  EXPECT_EQ(cm["data"]["k"], "a\xef\xbf\xbd!\xef\xbf\xbd");
  EXPECT_NO_THROW(cm.dump());
}

TEST(ProtobufCodec, Base64Padding) {
  auto data = [](const std::string& bytes) {
    json s = decode(envelope("v1", "Secret", entry(2, "k", bytes)));
    return s["data"]["k"].get<std::string>();
  };
  EXPECT_EQ(data(""), "");
  EXPECT_EQ(data("f"), "Zg==");
  EXPECT_EQ(data("fo"), "Zm8=");
  EXPECT_EQ(data("foo"), "Zm9v");
  EXPECT_EQ(data(std::string("\0\xff\xfe", 3)), "AP/+");
}

TEST(ProtobufCodec, UnknownKindIs415NamingIt) {
  auto r = decodeKubernetesProtobuf(envelope("apps/v1", "StatefulSet", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 415);
  EXPECT_EQ(r.error().reason, "UnsupportedMediaType");
  EXPECT_NE(r.error().message.find("apps/v1, Kind=StatefulSet"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().toStatus()["code"], 415);
}

TEST(ProtobufCodec, ContentEncodingIs415) {
  auto r = decodeKubernetesProtobuf(envelope("v1", "ConfigMap", "", "gzip"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 415);
  EXPECT_NE(r.error().message.find("gzip"), std::string::npos);
}

TEST(ProtobufCodec, MalformedBodiesAre400) {
  for (const std::string& body :
       {std::string(""), std::string("{\"kind\":\"ConfigMap\"}"), std::string("k8s"),
        std::string("k8s\0", 4) + len(1, len(2, "ConfigMap")),  // no apiVersion
        std::string("k8s\0", 4) + "\x0a\x05\x0a\x02",           // truncated envelope
        envelope("v1", "ConfigMap",
                 len(1,
                     "\x0a\x09"
                     "cm")),                                      // truncated name
        envelope("v1", "ConfigMap", tag(1, 0) + varint(5)),       // wrong wire type
        envelope("v1", "ConfigMap", tag(50, 3) + tag(50, 4))}) {  // a group
    auto r = decodeKubernetesProtobuf(body);
    ASSERT_FALSE(r.ok()) << json(body).dump();
    EXPECT_EQ(r.error().code, 400) << r.error().message;
  }
}

TEST(ProtobufCodec, EveryListedKindDecodesAnEmptyObject) {
  std::vector<std::string> kinds = protobufDecodableKinds();
  EXPECT_GE(kinds.size(), 29u);
  for (const std::string& k : kinds) {
    auto slash = k.rfind('/');
    std::string apiVersion = k.substr(0, slash), kind = k.substr(slash + 1);
    json want = {{"apiVersion", apiVersion}, {"kind", kind}};
    if (kind == "DeleteOptions") {
      EXPECT_EQ(decode(envelope(apiVersion, kind, "")), want) << k;
      continue;
    }
    want["metadata"] = {{"name", "x"}};
    EXPECT_EQ(decode(envelope(apiVersion, kind, len(1, len(1, "x")))), want) << k;
  }
}

TEST(ProtobufCodec, DeleteOptionsBody) {
  // What a typed client's Delete sends, e.g. kubectl drain --disable-eviction.
  std::string raw = num(1, 0) + len(4, "Background") + len(5, "All") + num(3, 0);
  EXPECT_EQ(decode(envelope("v1", "DeleteOptions", raw)), json::parse(R"({
    "apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
    "propagationPolicy": "Background", "dryRun": ["All"], "orphanDependents": false})"));
}

TEST(ProtobufCodec, MediaType) {
  EXPECT_TRUE(isKubernetesProtobuf("application/vnd.kubernetes.protobuf"));
  EXPECT_TRUE(isKubernetesProtobuf("Application/VND.Kubernetes.Protobuf; charset=utf-8"));
  EXPECT_FALSE(isKubernetesProtobuf("application/json"));
  EXPECT_FALSE(isKubernetesProtobuf("application/cbor"));
  EXPECT_FALSE(isKubernetesProtobuf(""));
}

}  // namespace
}  // namespace remedy::sandbox
