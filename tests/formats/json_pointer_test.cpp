#include "formats/json_pointer.h"

#include <gtest/gtest.h>

namespace remedy::formats {
namespace {

using Tokens = std::vector<std::string>;

TEST(JsonPointer, EscapesTildeAndSlash) {
  EXPECT_EQ(escapeJsonPointerToken("app.kubernetes.io/name"), "app.kubernetes.io~1name");
  EXPECT_EQ(escapeJsonPointerToken("a~b/c"), "a~0b~1c");
  EXPECT_EQ(escapeJsonPointerToken("plain"), "plain");
}

TEST(JsonPointer, ParsesRfc6901Pointers) {
  EXPECT_EQ(parseJsonPointer(""), Tokens{});
  EXPECT_EQ(parseJsonPointer("/"), Tokens{""});
  EXPECT_EQ(parseJsonPointer("/spec/steps/0"), (Tokens{"spec", "steps", "0"}));
  EXPECT_EQ(parseJsonPointer("/metadata/labels/app.kubernetes.io~1name"),
            (Tokens{"metadata", "labels", "app.kubernetes.io/name"}));
  // "~01" is "~1" as text: left to right, never "/".
  EXPECT_EQ(parseJsonPointer("/a~01"), Tokens{"a~1"});
  for (const char* bad : {"spec", "/a~", "/a~2"}) EXPECT_FALSE(parseJsonPointer(bad)) << bad;
}

TEST(JsonPointer, UnescapesLenientlyAsJsonPatchDoes) {
  EXPECT_EQ(unescapeJsonPointerToken("a~1b~0c"), "a/b~c");
  EXPECT_EQ(unescapeJsonPointerToken("a~01"), "a~1");
  EXPECT_EQ(unescapeJsonPointerToken("a~2~"), "a~2~");
}

TEST(JsonPointer, EscapeAndParseRoundTrip) {
  for (std::string token : {"", "~", "/", "~1", "a/b~c", "~~//"}) {
    EXPECT_EQ(parseJsonPointer("/" + escapeJsonPointerToken(token)), Tokens{token}) << token;
  }
}

}  // namespace
}  // namespace remedy::formats
