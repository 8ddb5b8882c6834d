// YAML to JSON as sigs.k8s.io/yaml v1.4 (go-yaml v2 underneath) converts it
// for kubectl and for kube-apiserver's application/yaml bodies; each
// expectation is what YAMLToJSON's output decodes to on the API server
// (goyaml.v2/resolve.go, yaml.go convertToJSONableObject, and
// encoding/json's number text read back by the unstructured decoder).
#include "formats/yaml_json.h"

#include "formats/json_depth.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace remedy::formats {
namespace {

using nlohmann::json;

json converted(const std::string& text) {
  auto doc = parseYamlDocument(text);
  EXPECT_TRUE(doc.ok()) << text << ": " << (doc.ok() ? "" : doc.error().message);
  return doc.ok() ? doc->json : json("not converted");
}

// The value of `v: <scalar>`.
json scalar(const std::string& text) { return converted("v: " + text + "\n")["v"]; }

TEST(YamlToJson, ResolvesYaml11BooleansAndNulls) {
  for (const char* t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    EXPECT_EQ(scalar(t), json(true)) << t;
  }
  for (const char* f :
       {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    EXPECT_EQ(scalar(f), json(false)) << f;
  }
  for (const char* n : {"~", "null", "Null", "NULL", ""}) EXPECT_TRUE(scalar(n).is_null()) << n;
  // Other spellings are strings.
  for (const char* s : {"yEs", "tRUE", "nULL", "Yes!", "none", "oN"}) {
    EXPECT_EQ(scalar(s), json(s)) << s;
  }
}

TEST(YamlToJson, ResolvesIntegersAsStrconvParseIntWithBaseZero) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"42", 42},
      {"-7", -7},
      {"+12", 12},
      {"0", 0},
      {"0755", 493},
      {"0o17", 15},
      {"0O17", 15},
      {"0x1F", 31},
      {"0X1f", 31},
      {"0b101", 5},
      {"-0b101", -5},
      {"1_000", 1000},
      {"0x_1F", 31},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  for (const auto& [text, want] : cases) {
    json got = scalar(text);
    EXPECT_EQ(got, want) << text;
    EXPECT_TRUE(got.is_number_integer()) << text << " is " << got.dump();
  }
  // Not octal, so a float: 8, written back as the integer 8.
  EXPECT_EQ(scalar("08"), json(8));
  EXPECT_TRUE(scalar("08").is_number_integer());
  // Beyond int64 but within uint64: a float64 on the server.
  EXPECT_TRUE(scalar("18446744073709551615").is_number_float());
  EXPECT_TRUE(scalar("99999999999999999999").is_number_float());
  // Not numbers at all.
  for (const char* s : {"0x", "0b2", "1-2", "+", "_1", "1.2.3", "0x1p-2", "1e400"}) {
    EXPECT_EQ(scalar(s), json(s)) << s;
  }
}

TEST(YamlToJson, FloatsReadBackAsTheServerReadsThem) {
  EXPECT_EQ(scalar("1.5"), json(1.5));
  EXPECT_TRUE(scalar("1.5").is_number_float());
  EXPECT_EQ(scalar(".5"), json(0.5));
  EXPECT_EQ(scalar("-.5e1"), json(-5));
  EXPECT_EQ(scalar("1.10"), json(1.1)) << "an unquoted 1.10 is a number";
  EXPECT_EQ(scalar("1_0.5"), json(10.5));
  // Integral floats are written without a fraction and decode as integers.
  for (const char* s : {"1.0", "1e3", "2.", "1E2"}) {
    EXPECT_TRUE(scalar(s).is_number_integer()) << s << " is " << scalar(s).dump();
  }
  EXPECT_EQ(scalar("1e3"), json(1000));
  EXPECT_TRUE(scalar("1e21").is_number_float());
}

TEST(YamlToJson, QuotedBlockAndTaggedScalarsAreStrings) {
  json j =
      converted("a: \"42\"\nb: 'true'\nc: !!str 0755\nd: |\n  yes\ne: >-\n  on\n  off\nf: \"\"\n");
  EXPECT_EQ(j["a"], "42");
  EXPECT_EQ(j["b"], "true");
  EXPECT_EQ(j["c"], "0755");
  EXPECT_EQ(j["d"], "yes\n");
  EXPECT_EQ(j["e"], "on off");
  EXPECT_EQ(j["f"], "");
}

TEST(YamlToJson, TimestampsStayStrings) {
  EXPECT_EQ(scalar("2024-05-01T03:00:00Z"), "2024-05-01T03:00:00Z");
  EXPECT_EQ(scalar("2024-05-01"), "2024-05-01");
}

TEST(YamlToJson, KeysAreResolvedThenWrittenAsText) {
  json j = converted("yes: 1\noff: 2\ny: 8\n0755: 3\n1.50: 4\n\"on\": 5\n12: 6\n1e7: 7\n");
  // `y: 8` redefines "true" (the last wins).
  EXPECT_EQ(j, json::parse(R"({"true": 8, "false": 2, "493": 3, "1.5": 4, "on": 5, "12": 6,
                               "1e+07": 7})"));
}

TEST(YamlToJson, ValuesJsonCannotHoldFailTheDocument) {
  auto inf = parseYamlDocument("a:\n  b: .inf\n");
  ASSERT_FALSE(inf.ok());
  EXPECT_EQ(inf.error().message, "json: unsupported value: +Inf");
  EXPECT_EQ(inf.error().line, 2);
  EXPECT_FALSE(parseYamlDocument("v: .nan\n").ok());
  auto nullKey = parseYamlDocument("~: 1\n");
  ASSERT_FALSE(nullKey.ok());
  EXPECT_EQ(nullKey.error().message, "unsupported map key of type: <nil>, key: <nil>");
  EXPECT_FALSE(parseYamlDocument("18446744073709551615: 1\n").ok());
}

TEST(YamlToJson, TheLastDefinitionOfAKeyWinsAndIsReported) {
  auto doc = parseYamlDocument("a:\n  x: 1\n  z: 2\n  x: 3\n");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->json, json::parse(R"({"a": {"x": 3, "z": 2}})"));
  ASSERT_EQ(doc->duplicates.size(), 1u);
  EXPECT_EQ(doc->duplicates[0].line, 4);
  EXPECT_EQ(doc->duplicates[0].firstLine, 2);
  EXPECT_EQ(doc->duplicates[0].key, "x");
  EXPECT_EQ(doc->duplicates[0].pointer, "/a/x");
}

TEST(YamlToJson, ABodyIsItsFirstDocumentAndAStreamIsEveryDocument) {
  EXPECT_EQ(converted("a: 1\n---\nb: 2\n"), json::parse(R"({"a": 1})"));
  EXPECT_TRUE(converted("").is_null());
  auto docs = parseYamlDocuments("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(docs->at(1).json, json::parse(R"({"b": 2})"));
  EXPECT_EQ(docs->at(1).lineOf("/b"), 7);
}

TEST(YamlToJson, JsonTextIsYaml) {
  EXPECT_EQ(converted(R"({"a":"b","n":[1,2.5,true,null],"o":{"x/y":"\u00e9"}})"),
            json::parse(R"({"a":"b","n":[1,2.5,true,null],"o":{"x/y":"é"}})"));
}

TEST(YamlToJson, RecordsTheLineOfEveryNode) {
  auto doc = parseYamlDocument(
      "kind: Runbook\n"         // 1
      "spec:\n"                 // 2
      "  steps:\n"              // 3
      "    - name: a\n"         // 4
      "      scale:\n"          // 5
      "        replicas: 3\n"   // 6
      "  labels: {a/b: x}\n");  // 7
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->lineOf("/kind"), 1);
  EXPECT_EQ(doc->lineOf("/spec/steps/0"), 4);
  EXPECT_EQ(doc->lineOf("/spec/steps/0/scale/replicas"), 6);
  EXPECT_EQ(doc->lineOf("/spec/labels/a~1b"), 7);
  EXPECT_EQ(doc->lineOf("/spec/steps/0/scale/target/name"), 5);
}

TEST(YamlToJson, SyntaxErrorsCarryTheirLine) {
  auto doc = parseYamlDocuments("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_GT(doc.error().line, 1);
  EXPECT_FALSE(doc.error().message.empty());
}

// Found by fuzz/runbook_manifest: yaml-cpp took bytes that are not UTF-8,
// and the JSON made of them could not be written (nlohmann::json::dump
// threw from the validator's messages). go-yaml refuses such a stream.
TEST(YamlToJson, RefusesTextThatIsNotUtf8WithGoYamlsWordsAndTheLine) {
  auto bad = parseYamlDocuments("a: 1\nname: bad-\xba\xba\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_EQ(bad.error().message, "invalid leading UTF-8 octet");
  EXPECT_EQ(parseYamlDocument("a: \xc3(").error().message, "invalid trailing UTF-8 octet");
  EXPECT_EQ(parseYamlDocument("a: \xe2\x82").error().message, "incomplete UTF-8 octet sequence");
  EXPECT_EQ(parseYamlDocument("a: \xc0\xaf").error().message, "invalid length of a UTF-8 sequence");
  EXPECT_EQ(parseYamlDocument("a: \xed\xa0\x80").error().message, "invalid Unicode character");
  auto good = parseYamlDocument("a: h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->json["a"], "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

// Found by fuzz/runbook_manifest: yaml-cpp's LoadAll collected empty
// documents without end on a "," where a node should start (its parser
// reported one without consuming the token), until memory ran out.
TEST(YamlToJson, AStreamTheParserCannotGetPastIsRefusedWithItsLine) {
  for (const char* text : {",", ", a", "a: 1\n---\n,\n", "kind: Runbook\n...\n, x"}) {
    auto docs = parseYamlDocuments(text);
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_EQ(docs.error().message, "did not find expected node content") << text;
  }
  EXPECT_EQ(parseYamlDocuments("a: 1\n---\n,\n").error().line, 3);
  // Streams of several documents, empty ones too, still read.
  auto several = parseYamlDocuments("---\na: 1\n---\n---\nb: 2\n...\n---\nc: [1, 2]\n");
  ASSERT_TRUE(several.ok()) << several.error().message;
  ASSERT_EQ(several->size(), 3u);
  EXPECT_EQ((*several)[2].json["c"][1], 2);
}

// Found by fuzz/runbook_manifest: yaml-cpp expands every alias, so eight
// lines of anchors stood for 9^8 nodes and the conversion ran out of memory.
TEST(YamlToJson, RefusesAliasesThatExpandBeyondTheNodeBudget) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  std::string previous = "a";
  for (std::string name : {"b", "c", "d", "e", "f", "g", "h"}) {
    text += name + ": &" + name + " [";
    for (int i = 0; i < 9; ++i) text += (i ? ", *" : "*") + previous;
    text += "]\n";
    previous = name;
  }
  auto bombed = parseYamlDocuments(text);
  ASSERT_FALSE(bombed.ok());
  EXPECT_EQ(bombed.error().message, "document contains excessive aliasing");
  auto reused = parseYamlDocument("a: &a {x: 1, y: [1, 2]}\nb: *a\nc: *a\n");
  ASSERT_TRUE(reused.ok()) << reused.error().message;
  EXPECT_EQ(reused->json["c"], reused->json["a"]);
}

// yaml-cpp itself refuses nesting past about 500 levels; only aliases nest
// deeper, and the conversion, which recurses per level, stops them at
// kMaxJsonDepth (before an AddressSanitizer build's larger frames overflow
// the stack).
TEST(YamlToJson, NestingIsBounded) {
  auto nested = [](size_t levels) {
    return "a: " + std::string(levels, '[') + "1" + std::string(levels, ']') + "\n";
  };
  EXPECT_TRUE(parseYamlDocument(nested(400)).ok());
  EXPECT_FALSE(parseYamlDocument(nested(kMaxJsonDepth + 1)).ok());
  for (const char* text : {"a: &a [1, *a]\n", "a: &a {b: *a}\n"}) {
    auto cycle = parseYamlDocument(text);
    ASSERT_FALSE(cycle.ok()) << text;
    EXPECT_EQ(cycle.error().message, "document nested too deep (an anchor used inside itself?)")
        << text;
  }
}

TEST(YamlToJson, RefusesAnAnchorUsedInsideItself) {
  for (const char* text : {"a: &a [1, *a]\n", "a: &a {b: *a}\n"}) {
    auto doc = parseYamlDocument(text);
    EXPECT_FALSE(doc.ok()) << text;
  }
}

}  // namespace
}  // namespace remedy::formats
