// What the redis action asks of a Redis server, behind a small interface:
// one command at a time and its reply. The action (redis_action.h) keeps
// everything else: the URL, AUTH and SELECT, timeouts bounded by the step's
// deadline, which replies are errors and retriable, and scrubbing the
// password from messages. hiredisConnector() is the real transport;
// remedyctl test answers from a test file's recorded servers instead.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace remedy::actions::redis {

struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string text;  // kString, kStatus and kError
  long long integer = 0;
  std::vector<Reply> elements;  // kArray
};

class Connection {
 public:
  virtual ~Connection() = default;
  // Sends one command and reads its reply within `timeout`. False when the
  // connection failed or timed out (`error` says how: "timed out",
  // "Connection reset by peer"); an error reply is a Reply of type kError.
  virtual bool command(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       Reply* reply, std::string* error) = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // Connects within `timeout`, or says why not in `error`.
  virtual std::unique_ptr<Connection> connect(const std::string& host, int port,
                                              std::chrono::milliseconds timeout,
                                              std::string* error) = 0;
};

std::shared_ptr<Connector> hiredisConnector();

}  // namespace remedy::actions::redis
