// Result<T, E>: a value or an error, for expected failures (bad input, an
// unparsable duration, a resource that is not there). Returned, never thrown
// (see STYLE.md "Errors"). The one result type of the project: api uses
// Result<T> (an error message), kube Result<T, kube::Status> and the sandbox
// Result<T, sandbox::ApiError>.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace remedy::formats {

// The default error: a message that names the field and what was expected.
struct Error {
  std::string message;
};

template <typename T, typename E = Error>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // Precondition: !ok(). The error; for the default Error, its message.
  decltype(auto) error() const {
    if constexpr (std::is_same_v<E, Error>) {
      return (std::get<1>(state_).message);
    } else {
      return (std::get<1>(state_));
    }
  }

 private:
  std::variant<T, E> state_;
};

}  // namespace remedy::formats
