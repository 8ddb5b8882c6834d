#include "http/request_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace remedy::http {
namespace {

using Kind = RequestReader::Outcome::Kind;

// Bytes from memory, handed out at most `piece` at a time (a slow client
// sends a request in many small reads).
class WireReader {
 public:
  explicit WireReader(std::string wire, RequestLimits limits = {}, size_t piece = 1 << 20)
      : wire_(std::move(wire)),
        reader_(
            [this, piece](char* buffer, size_t size) -> ssize_t {
              size_t n = std::min({size, piece, wire_.size() - offset_});
              if (n == 0) return 0;
              std::memcpy(buffer, wire_.data() + offset_, n);
              offset_ += n;
              return static_cast<ssize_t>(n);
            },
            limits) {}

  RequestReader::Outcome read() {
    request = Request();
    return reader_.read(request, [this] {
      ++continues;
      return true;
    });
  }

  Request request;
  int continues = 0;
  size_t consumed() const { return offset_; }

 private:
  std::string wire_;
  size_t offset_ = 0;
  RequestReader reader_;
};

std::string chunked(const std::string& chunks) {
  return "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}

TEST(RequestReader, ReadsPipelinedRequestsWhateverTheReadSizes) {
  std::string wire =
      "GET /a%20b?q=x%2By&q=2&flag HTTP/1.1\r\nHost: t\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n"
      "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" +
      chunked("3;ext=1\r\nabc\r\n2 \r\nde\r\n0\r\nTrailer: x\r\n\r\n");
  for (size_t piece : {size_t(1), size_t(2), size_t(7), size_t(1 << 20)}) {
    WireReader r(wire, {}, piece);
    ASSERT_EQ(r.read().kind, Kind::kRequest) << piece;
    EXPECT_EQ(r.request.method, "GET");
    EXPECT_EQ(r.request.path, "/a b");
    EXPECT_EQ(r.request.param("q"), "x+y");
    EXPECT_EQ(r.request.query.count("q"), 2u);
    EXPECT_EQ(r.request.param("flag"), "");
    EXPECT_EQ(r.request.header("X-TWICE"), "1, 2");
    ASSERT_EQ(r.read().kind, Kind::kRequest) << piece;
    EXPECT_EQ(r.request.body, "hello");
    ASSERT_EQ(r.read().kind, Kind::kRequest) << piece;
    EXPECT_EQ(r.request.body, "abcde");
    EXPECT_EQ(r.read().kind, Kind::kEnded);
  }
}

TEST(RequestReader, ClosesAfterHttp10AndConnectionClose) {
  WireReader a("GET / HTTP/1.0\r\n\r\n");
  auto o = a.read();
  ASSERT_EQ(o.kind, Kind::kRequest);
  EXPECT_TRUE(o.closeAfter);
  WireReader b("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
  o = b.read();
  ASSERT_EQ(o.kind, Kind::kRequest);
  EXPECT_TRUE(o.closeAfter);
  WireReader c("GET / HTTP/1.1\r\n\r\n");
  o = c.read();
  ASSERT_EQ(o.kind, Kind::kRequest);
  EXPECT_FALSE(o.closeAfter);
}

// Regression: std::stoul read "-1" and "-2" as 2^64-1 and 2^64-2, which
// passed the body limit (the sum wrapped) and made `size + 2` wrap to 1 and 0.
TEST(RequestReader, RefusesNegativeChunkSizes) {
  for (const char* size : {"-1", "-2", "-0", "+1"}) {
    WireReader r(chunked(std::string(size) + "\r\nabc\r\n0\r\n\r\n"));
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << size;
    EXPECT_EQ(o.status, 400) << size;
    EXPECT_TRUE(r.request.body.empty()) << size;
  }
}

TEST(RequestReader, RefusesChunkSizesThatAreNotPlainHexadecimal) {
  for (const char* size : {"0x3", " 3", "3z", "", "g", "3 4", "\t3"}) {
    WireReader r(chunked(std::string(size) + "\r\nabc\r\n0\r\n\r\n"));
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << size;
    EXPECT_EQ(o.status, 400) << size;
  }
}

// Regression: the largest sizes wrapped `body.size() + size` below the limit.
TEST(RequestReader, RefusesChunkSizesBeyondTheBodyLimitWithoutOverflow) {
  for (const char* size :
       {"ffffffffffffffff", "fffffffffffffffe", "10000000000000000", "100000000000000000003",
        "0000000000000000000000000000000000000000000000000000000400001"}) {
    WireReader r(chunked("1\r\na\r\n" + std::string(size) + "\r\n"));
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << size;
    EXPECT_EQ(o.status, 413) << size;
  }
  RequestLimits limits;
  limits.maxBodyBytes = 4;
  WireReader r(chunked("2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"), limits);
  EXPECT_EQ(r.read().status, 413);
  WireReader exact(chunked("2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"), limits);
  ASSERT_EQ(exact.read().kind, Kind::kRequest);
  EXPECT_EQ(exact.request.body, "abcd");
}

// Regression: the two bytes after chunk data were dropped unchecked, so
// "3\r\nabcdef" took "ab c" as data and "def" as the next size line.
TEST(RequestReader, RefusesChunkDataNotFollowedByCrlf) {
  WireReader r(chunked("3\r\nabcde\r\n0\r\n\r\n"));
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 400);
}

TEST(RequestReader, RefusesChunkFramingOutOfProportionToItsData) {
  // One-byte chunks each with a 1000-byte extension: a 3 MiB body would
  // cost 3 GiB of reading.
  std::string chunks;
  for (int i = 0; i < 100; ++i) chunks += "1;" + std::string(1000, 'x') + "\r\na\r\n";
  WireReader r(chunked(chunks + "0\r\n\r\n"));
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 400);
  EXPECT_LT(r.consumed(), 40u * 1024);
  // Small chunks with plain framing are fine.
  std::string small;
  for (int i = 0; i < 10000; ++i) small += "1\r\na\r\n";
  WireReader ok(chunked(small + "0\r\n\r\n"));
  ASSERT_EQ(ok.read().kind, Kind::kRequest);
  EXPECT_EQ(ok.request.body.size(), 10000u);
}

TEST(RequestReader, RefusesAChunkSizeLineLongerThan4096Bytes) {
  WireReader r(chunked("1;" + std::string(5000, 'x') + "\r\na\r\n0\r\n\r\n"));
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 400);
}

// Regression: trailer fields had no bound on their number.
TEST(RequestReader, TrailersShareTheHeaderLimit) {
  RequestLimits limits;
  limits.maxHeaderBytes = 256;
  std::string trailers;
  for (int i = 0; i < 100; ++i) trailers += "T: v\r\n";
  WireReader r(chunked("1\r\na\r\n0\r\n" + trailers + "\r\n"), limits);
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 431);
}

// Regression: blank lines before a request line were read without limit.
TEST(RequestReader, BlankLinesBeforeARequestShareTheHeaderLimit) {
  RequestLimits limits;
  limits.maxHeaderBytes = 256;
  std::string blank;
  for (int i = 0; i < 1000; ++i) blank += "\r\n";
  WireReader r(blank + "GET / HTTP/1.1\r\n\r\n", limits);
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 431);
  WireReader few("\r\n\r\nGET / HTTP/1.1\r\n\r\n", limits);
  EXPECT_EQ(few.read().kind, Kind::kRequest);
}

TEST(RequestReader, RefusesMoreHeaderFieldsThanTheLimit) {
  RequestLimits limits;
  limits.maxHeaderFields = 3;
  WireReader r("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits);
  auto o = r.read();
  EXPECT_EQ(o.kind, Kind::kRefused);
  EXPECT_EQ(o.status, 431);
  WireReader ok("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  EXPECT_EQ(ok.read().kind, Kind::kRequest);
}

TEST(RequestReader, RefusesOversizedHeadersWith431WhateverTheReadSizes) {
  RequestLimits limits;
  limits.maxHeaderBytes = 256;
  for (size_t piece : {size_t(1), size_t(1 << 20)}) {
    WireReader r("GET / HTTP/1.1\r\nX-Long: " + std::string(100000, 'a') + "\r\n\r\n", limits,
                 piece);
    auto o = r.read();
    EXPECT_EQ(o.status, 431);
    if (piece == 1) {
      EXPECT_LT(r.consumed(), 300u);
    }
  }
}

// Regression: std::stoul took "5abc", "+5", " 5" and "-1", and repeated
// Content-Length fields ("5, 7") as their first value.
TEST(RequestReader, ContentLengthIsDigitsAndRepeatsMustAgree) {
  for (const char* value : {"5abc", "+5", "-1", "0x5", "5, 7", "5,", ",5", ""}) {
    WireReader r("POST / HTTP/1.1\r\nContent-Length: " + std::string(value) + "\r\n\r\nhello");
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << value;
    EXPECT_EQ(o.status, 400) << value;
  }
  WireReader twice("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(twice.read().kind, Kind::kRequest);
  EXPECT_EQ(twice.request.body, "hello");
  WireReader huge("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n");
  EXPECT_EQ(huge.read().status, 413);
}

TEST(RequestReader, TransferEncodingOtherThanChunkedIs501) {
  for (const char* te : {"gzip", "gzip, chunked", "chunked, gzip", "identity"}) {
    WireReader r("POST / HTTP/1.1\r\nTransfer-Encoding: " + std::string(te) +
                 "\r\nContent-Length: 1\r\n\r\na");
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << te;
    EXPECT_EQ(o.status, 501) << te;
  }
}

TEST(RequestReader, ChunkedWinsOverContentLengthAndTheConnectionCloses) {
  WireReader r(
      "POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n");
  auto o = r.read();
  ASSERT_EQ(o.kind, Kind::kRequest);
  EXPECT_EQ(r.request.body, "abc");
  EXPECT_TRUE(o.closeAfter);
}

TEST(RequestReader, RefusesFieldNamesWithWhitespaceAndControlCharacters) {
  for (const std::string& field :
       std::vector<std::string>{"Content-Length : 5", " Content-Length: 5", ": x", "X\tY: 1",
                                std::string("X: a\0b", 6), "X: a\rb"}) {
    WireReader r("POST / HTTP/1.1\r\n" + field + "\r\n\r\nhello");
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << field;
    EXPECT_EQ(o.status, 400) << field;
  }
}

TEST(RequestReader, RefusesMalformedRequestLines) {
  for (const std::string& line :
       std::vector<std::string>{"GET /", "GET  / HTTP/1.1", "GET / HTTP/1.1 x", "GET /a b HTTP/1.1",
                                " / HTTP/1.1", "G(T / HTTP/1.1", "GET / HTTP/2.0", "GET / HTTP/1.",
                                "GET / HTTP/1.11", std::string("GET /\0 HTTP/1.1", 15)}) {
    WireReader r(line + "\r\n\r\n");
    auto o = r.read();
    EXPECT_EQ(o.kind, Kind::kRefused) << line;
    EXPECT_EQ(o.status, 400) << line;
  }
}

TEST(RequestReader, EndsWhenTheConnectionEndsMidRequest) {
  for (const std::string& wire : std::vector<std::string>{
           "GET / HTTP/1.1\r\nHost", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
           chunked("3\r\nab"), chunked("3\r\nabc\r\n0\r\n")}) {
    WireReader r(wire);
    EXPECT_EQ(r.read().kind, Kind::kEnded) << wire;
  }
}

TEST(RequestReader, SendsContinueOnlyBeforeABody) {
  WireReader r(
      "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nab"
      "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.read().kind, Kind::kRequest);
  EXPECT_EQ(r.continues, 1);
  ASSERT_EQ(r.read().kind, Kind::kRequest);
  EXPECT_EQ(r.continues, 1);
  WireReader big("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n");
  EXPECT_EQ(big.read().status, 413);
  EXPECT_EQ(big.continues, 0);
}

TEST(PercentDecode, DecodesOnlyWholeEscapes) {
  EXPECT_EQ(percentDecode("a%20b%2", false), "a b%2");
  EXPECT_EQ(percentDecode("%41%4g%", false), "A%4g%");
  EXPECT_EQ(percentDecode("a+b", false), "a+b");
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("%00", false), std::string("\0", 1));
}

}  // namespace
}  // namespace remedy::http
