// A plain HTTP/1.1 client for loopback servers (the operator's webhook,
// /metrics and /readyz): one request per connection, no TLS, no gtest, so
// the benchmarks use it too.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace remedy::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string headers;
};

// One HTTP/1.1 request over a fresh loopback connection (no TLS).
inline HttpAnswer httpRequest(int port, const std::string& method, const std::string& path,
                              const std::string& body = "",
                              const std::vector<std::string>& headers = {}) {
  HttpAnswer answer;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return answer;
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  request += body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buffer[8192];
  while (true) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  auto headerEnd = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 ", 0) != 0 || headerEnd == std::string::npos) return answer;
  answer.status = std::atoi(response.c_str() + 9);
  answer.headers = response.substr(0, headerEnd);
  answer.body = response.substr(headerEnd + 4);
  return answer;
}

}  // namespace remedy::testing
