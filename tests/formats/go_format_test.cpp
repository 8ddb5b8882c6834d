// Go's renderings; the expectations are Go 1.26's fmt, strconv and
// encoding/json output.
#include "formats/go_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace remedy::formats {
namespace {

TEST(GoFormat, FloatsPrintAsFmtV) {
  EXPECT_EQ(goFloat(1e6), "1e+06");
  EXPECT_EQ(goFloat(123456.0), "123456");
  EXPECT_EQ(goFloat(1e20), "1e+20");
  EXPECT_EQ(goFloat(0.0001), "0.0001");
  EXPECT_EQ(goFloat(0.00001), "1e-05");
  EXPECT_EQ(goFloat(1.5), "1.5");
  EXPECT_EQ(goFloat(100), "100");
  EXPECT_EQ(goFloat(3.14159265358979), "3.14159265358979");
  EXPECT_EQ(goFloat(12345678.5), "1.23456785e+07");
  EXPECT_EQ(goFloat(0), "0");
  EXPECT_EQ(goFloat(-2.5), "-2.5");
  EXPECT_EQ(goFloat(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(goFloat(std::nan("")), "NaN");
}

TEST(GoFormat, FormatFloatF) {
  EXPECT_EQ(goFormatFloat(1e6, 'f'), "1000000");
  EXPECT_EQ(goFormatFloat(1e20, 'f'), "100000000000000000000");
  EXPECT_EQ(goFormatFloat(1e-7, 'f'), "0.0000001");
  EXPECT_EQ(goFormatFloat(12345678.5, 'f'), "12345678.5");
  EXPECT_EQ(goFormatFloat(1e6, 'e'), "1e+06");
  EXPECT_EQ(goFormatFloat(0.0001, 'e'), "1e-04");
  EXPECT_EQ(goFormatFloat(123456.0, 'e'), "1.23456e+05");
}

TEST(GoFormat, FormatFloat32) {
  // sigs.k8s.io/yaml writes a float map key with FormatFloat(f, 'g', -1, 32).
  EXPECT_EQ(goFormatFloat(3.14159265358979, 'g', 32), "3.1415927");
  EXPECT_EQ(goFormatFloat(0.1, 'g', 32), "0.1");
  EXPECT_EQ(goFormatFloat(12345678.5, 'g', 32), "1.2345678e+07");
  EXPECT_EQ(goFormatFloat(2.5, 'g', 32), "2.5");
}

TEST(GoFormat, JsonFloatsAsEncodingJson) {
  EXPECT_EQ(goJsonFloat(1e6), "1000000");
  EXPECT_EQ(goJsonFloat(1e20), "100000000000000000000");
  EXPECT_EQ(goJsonFloat(1e21), "1e+21");
  EXPECT_EQ(goJsonFloat(0.00001), "0.00001");
  EXPECT_EQ(goJsonFloat(1e-7), "1e-7");
  EXPECT_EQ(goJsonFloat(1.5), "1.5");
  EXPECT_EQ(goJsonFloat(0), "0");
}

TEST(GoFormat, QuoteAsStrconvQuote) {
  EXPECT_EQ(goQuote("plain"), "\"plain\"");
  EXPECT_EQ(goQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(goQuote("\n\t\r\a\b\f\v"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
  EXPECT_EQ(goQuote(std::string("\x01\x7f", 2)), "\"\\x01\\x7f\"");
  EXPECT_EQ(goQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(goQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(goQuote("\xc2\x85"), "\"\\u0085\"");
  EXPECT_EQ(goQuote("\xc2\xad"), "\"\\u00ad\"");
}

}  // namespace
}  // namespace remedy::formats
