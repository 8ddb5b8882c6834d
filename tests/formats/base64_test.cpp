// Base64 as Go's encoding/base64 reads it; the expectations (data and error
// offsets) are Go 1.26's, and kube-apiserver v1.33 answers a Secret with
// such data with the same "illegal base64 data at input byte N".
#include "formats/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace remedy::formats {
namespace {

std::string decoded(const Result<std::string>& r) { return r.ok() ? "ok:" + r.value() : r.error(); }

TEST(Base64, StdEncodingDecodesAsGoDoes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "ok:"},
      {"aGVsbG8=", "ok:hello"},
      {"aGVs\nbG8=", "ok:hello"},
      {"aGVsbG8=\n\n", "ok:hello"},
      {"aA==\r\n", "ok:h"},
      {"aA=\n=", "ok:h"},
      {"aGk=", "ok:hi"},
      {"aGVsbG8", "illegal base64 data at input byte 4"},
      {"a!b=", "illegal base64 data at input byte 1"},
      {"aGVsbG8=x", "illegal base64 data at input byte 8"},
      {"aGk", "illegal base64 data at input byte 0"},
      {"aA=", "illegal base64 data at input byte 3"},
      {"aA", "illegal base64 data at input byte 0"},
      {"a", "illegal base64 data at input byte 0"},
      {"====", "illegal base64 data at input byte 0"},
      {"aGVsbG8==", "illegal base64 data at input byte 8"},
      {"YQ==YQ==", "illegal base64 data at input byte 4"},
      {"-_8=", "illegal base64 data at input byte 0"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(decoded(decodeBase64(in)), out) << in;
}

TEST(Base64, RawUrlEncodingHasNoPadding) {
  EXPECT_EQ(decoded(decodeBase64Url("aGk")), "ok:hi");
  EXPECT_EQ(decoded(decodeBase64Url("aA")), "ok:h");
  EXPECT_EQ(decoded(decodeBase64Url("-_8")), "ok:\xfb\xff");
  EXPECT_EQ(decoded(decodeBase64Url("a")), "illegal base64 data at input byte 0");
  EXPECT_EQ(decoded(decodeBase64Url("aA==")), "illegal base64 data at input byte 2");
  EXPECT_EQ(decoded(decodeBase64Url("+/8")), "illegal base64 data at input byte 0");
}

TEST(Base64, EncodesBothAlphabets) {
  std::string bytes(
      "\xff\xfe\xfd\x00"
      "a",
      5);
  EXPECT_EQ(encodeBase64(bytes), "//79AGE=");
  EXPECT_EQ(encodeBase64Url(bytes), "__79AGE");
  EXPECT_EQ(encodeBase64(""), "");
  EXPECT_EQ(encodeBase64("h"), "aA==");
  EXPECT_EQ(encodeBase64("hi"), "aGk=");
  for (const std::string& s :
       std::vector<std::string>{"", "x", "xy", "xyz", "hello world", std::string(1000, '\x80')}) {
    EXPECT_EQ(decodeBase64(encodeBase64(s)).value(), s);
    EXPECT_EQ(decodeBase64Url(encodeBase64Url(s)).value(), s);
  }
}

}  // namespace
}  // namespace remedy::formats
