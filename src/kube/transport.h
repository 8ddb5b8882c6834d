// The seam between this library and an HTTP implementation. Everything
// above it (REST client, watch, informer, leader election, events) speaks
// only these types; http_transport.cpp is the one place that includes an
// HTTP library. Tests may implement Transport directly.
#pragma once

#include "kube/clock.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace remedy::kube {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of a header, matched case-insensitively; "" when absent.
std::string headerValue(const Headers& headers, const std::string& name);

struct Request {
  std::string method = "GET";
  // Path and query, relative to the server URL: "/api/v1/pods?limit=500".
  std::string target;
  Headers headers;
  std::string body;
  // 0: the transport's default.
  Duration timeout{0};
};

struct Response {
  // 0 when no HTTP answer came (see error).
  int status = 0;
  Headers headers;
  std::string body;
  // Why there is no answer: connection refused, TLS failure, timeout,
  // cancelled.
  std::string error;
  bool cancelled = false;
};

// A response whose body is read as it arrives (watch).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Status and headers; for a non-2xx status the whole body is in body.
  virtual const Response& head() const = 0;
  // Blocks for the next bytes of the body. False at the end of the body, on
  // error, or after cancel(); error() then tells which.
  virtual bool read(std::string& chunk) = 0;
  virtual std::string error() const = 0;
  // From any thread: makes a blocked read() return false soon.
  virtual void cancel() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Response send(const Request& request) = 0;
  // Opens a streaming request; head() is ready when this returns.
  virtual std::unique_ptr<ResponseStream> open(const Request& request) = 0;
  // Ends every request in flight and refuses new ones (shutdown).
  virtual void cancelAll() = 0;
};

}  // namespace remedy::kube
