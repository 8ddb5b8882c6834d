#include "sandbox/yaml_json.h"

#include <gtest/gtest.h>

#include <string>

namespace remedy::sandbox {
namespace {

std::string nested(size_t levels) {
  return std::string(levels, '[') + "1" + std::string(levels, ']');
}

TEST(RequestBody, ABodyNestedPastTheLimitIsA400BeforeItIsParsed) {
  std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","data":)" + nested(1001) + "}";
  for (bool allowYaml : {false, true}) {
    auto parsed = parseBody(body, allowYaml);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, 400);
    EXPECT_EQ(parsed.error().reason, "BadRequest");
    EXPECT_EQ(parsed.error().message, std::string("error decoding ") +
                                          (allowYaml ? "YAML" : "JSON") +
                                          ": arrays and objects nested more than 1000 levels deep");
  }
}

TEST(RequestBody, ABodyAtTheLimitIsParsed) {
  auto parsed = parseBody(R"({"data":)" + nested(999) + "}", false);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(parsed.value()["data"].is_array());
}

}  // namespace
}  // namespace remedy::sandbox
