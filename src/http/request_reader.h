// Reads HTTP/1.1 requests (RFC 9112) from a stream of bytes: the request
// line, the header fields and the body, framed by Content-Length or by the
// chunked transfer coding. It owns no socket: the bytes come from a Source,
// so the server reads from its connection and the fuzz target (fuzz/) and
// the tests from memory.
//
// Everything a client sends is bounded before it is stored: the request
// line, header and trailer fields together (maxHeaderBytes, 431), the number
// of header fields (maxHeaderFields, 431), the body (maxBodyBytes, 413,
// refused before it is read) and the framing of a chunked body (a chunk-size
// line of at most 4096 bytes, and framing overhead out of proportion to the
// data is refused with 400, as Go's net/http/internal/chunked.go refuses
// it). Framing that two readers could understand differently is refused
// rather than guessed at (request smuggling): a chunk size that is not plain
// hexadecimal, chunk data not followed by CRLF, Content-Length values that
// differ, a Transfer-Encoding other than chunked (501), whitespace in a
// field name.
#pragma once

#include "http/server.h"

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>

namespace remedy::http {

struct RequestLimits {
  size_t maxHeaderBytes = 64 * 1024;  // request line, fields and trailers
  size_t maxHeaderFields = 256;
  size_t maxBodyBytes = 3 * 1024 * 1024;
};

class RequestReader {
 public:
  // Reads at most `size` bytes into `buffer`: the number read, or <= 0 when
  // the connection ended (closed, failed or timed out).
  using Source = std::function<ssize_t(char* buffer, size_t size)>;
  // Writes "100 Continue" for a client that sent `Expect: 100-continue`,
  // just before its body is read. False when the connection is gone.
  using ContinueWriter = std::function<bool()>;
  // Called once a request's header section is read (method, target, path,
  // query, headers), before its body is: false stops there, and read()
  // returns kStopped.
  using HeadersCheck = std::function<bool(const Request&)>;

  struct Outcome {
    enum class Kind {
      kRequest,  // a whole request was read
      kEnded,    // the connection ended before a whole request arrived
      kRefused,  // the request is malformed or too large: answer `status`, close
      kStopped,  // the HeadersCheck stopped it before its body: answer it, close
    };
    Kind kind = Kind::kEnded;
    int status = 0;
    // For kRequest: the connection must close after the answer (HTTP/1.0,
    // `Connection: close`, or both Content-Length and Transfer-Encoding).
    bool closeAfter = false;
  };

  RequestReader(Source source, RequestLimits limits);

  // Reads the next request of the connection into `request` (its method,
  // target, path, query, headers and body).
  Outcome read(Request& request, const ContinueWriter& writeContinue,
               const HeadersCheck& checkHeaders = nullptr);

 private:
  enum class LineResult { kLine, kEnded, kTooLong };
  // A line ending in CRLF (without it) of at most `limit` bytes.
  LineResult readLine(std::string& line, size_t limit);
  // Until the buffer holds `size` bytes. False when the connection ended.
  bool fill(size_t size);
  int readChunkedBody(Request& request, size_t& headerBytes);

  Source source_;
  RequestLimits limits_;
  std::string buffer_;  // bytes read but not consumed
  size_t scanned_ = 0;  // bytes of buffer_ known to hold no CRLF
};

}  // namespace remedy::http
