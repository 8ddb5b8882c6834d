// Values rendered as Go renders them: the API server's messages quote
// values with %q and print numbers with %v, and encoding/json writes floats
// its own way; text that must read exactly as the real server's uses these.
#pragma once

#include <string>
#include <string_view>

namespace remedy::formats {

// strconv.Quote: double quotes; \" \\ \a \b \f \n \r \t \v, \xNN for other
// control bytes and for bytes that are not UTF-8, \u00NN for the C1
// controls and the soft hyphen; other UTF-8 as it is (Go also escapes the
// few other non-printable runes, such as U+2028, which are kept here).
std::string goQuote(std::string_view s);

// strconv.FormatFloat(f, format, -1, bitSize) for format 'e', 'f' or 'g':
// the fewest digits that read back as the same float64 (bitSize 64) or
// float32 (bitSize 32); 'g' is 'e' when the exponent is below -4 or at
// least 6, else 'f'. NaN, +Inf and -Inf as Go spells them.
std::string goFormatFloat(double f, char format, int bitSize = 64);

// fmt's %v of a float64 (strconv 'g', shortest).
std::string goFloat(double f);

// encoding/json's text of a finite float64: 'f' form, or 'e' form below
// 1e-6 and from 1e21 on with a negative exponent's leading zero dropped
// ("1e-7", "1e+21").
std::string goJsonFloat(double f);

}  // namespace remedy::formats
