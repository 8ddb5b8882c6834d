// The HTTP/1.1 server's request reader (src/http/request_reader.h) on any
// bytes, delivered in reads of varying sizes as a network would, with small
// limits so that every refusal is reachable.
#include "http/request_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using remedy::http::Request;
  using remedy::http::RequestLimits;
  using remedy::http::RequestReader;
  if (size < 1) return 0;
  // The first byte picks the read sizes and the limits.
  const uint8_t shape = data[0];
  const std::string wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  RequestLimits limits;
  if (shape & 0x80) {
    limits.maxHeaderBytes = 512;
    limits.maxHeaderFields = 8;
    limits.maxBodyBytes = 64;
  }
  size_t offset = 0;
  unsigned step = 0;
  RequestReader reader(
      [&](char* buffer, size_t want) -> ssize_t {
        size_t piece = (shape & 0x40) ? want : 1 + (step++ * (shape & 0x3f)) % 17;
        size_t n = std::min({want, piece, wire.size() - offset});
        if (n == 0) return 0;
        std::memcpy(buffer, wire.data() + offset, n);
        offset += n;
        return static_cast<ssize_t>(n);
      },
      limits);
  for (int requests = 0; requests < 64; ++requests) {
    Request request;
    auto outcome = reader.read(request, [] { return true; });
    if (outcome.kind != RequestReader::Outcome::Kind::kRequest) {
      if (outcome.kind == RequestReader::Outcome::Kind::kRefused &&
          (outcome.status < 400 || outcome.status > 599)) {
        std::abort();
      }
      break;
    }
    // What a handler sees is within the limits.
    if (request.body.size() > limits.maxBodyBytes) std::abort();
    if (request.headers.size() > limits.maxHeaderFields) std::abort();
    if (request.method.empty() || request.target.empty()) std::abort();
    (void)request.param("q");
    (void)request.header("Content-Type");
  }
  if (offset > wire.size()) std::abort();
  return 0;
}
