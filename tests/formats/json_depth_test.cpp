#include "formats/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace remedy::formats {
namespace {

std::string nested(size_t levels) {
  return std::string(levels, '[') + "1" + std::string(levels, ']');
}

TEST(JsonDepth, CountsArraysAndObjectsInsideEachOther) {
  EXPECT_EQ(jsonNestingDepth("1"), 0u);
  EXPECT_EQ(jsonNestingDepth(R"({"a":[1,{"b":[]}],"c":{}})"), 4u);
  EXPECT_EQ(jsonNestingDepth(nested(1000)), 1000u);
}

TEST(JsonDepth, BracketsInsideStringsAreNotNesting) {
  EXPECT_EQ(jsonNestingDepth(R"({"a":"[[[{{{"})"), 1u);
  EXPECT_EQ(jsonNestingDepth(R"({"a":"quote \" [[[ still a string"})"), 1u);
  EXPECT_EQ(jsonNestingDepth(R"(["\\", [2]])"), 2u) << "an escaped backslash ends the string";
}

TEST(JsonDepth, StopsCountingOncePastTheLimit) {
  std::string deep(10 * 1000 * 1000, '[');
  EXPECT_EQ(jsonNestingDepth(deep, 1000), 1001u);
  EXPECT_EQ(jsonDepthProblem(deep), "arrays and objects nested more than 1000 levels deep");
  EXPECT_EQ(jsonDepthProblem(nested(1000)), "");
  EXPECT_EQ(jsonDepthProblem(nested(17), 16), "arrays and objects nested more than 16 levels deep");
}

}  // namespace
}  // namespace remedy::formats
