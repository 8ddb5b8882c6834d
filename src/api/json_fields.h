// Lossless JSON <-> struct mapping for the API types.
//
// A struct opts in by having a member `nlohmann::json unknownFields` and a
// static `fields(self, visitor)` that names each known field:
//
//   struct Target {
//     std::optional<std::string> kind;
//     nlohmann::json unknownFields = nlohmann::json::object();
//     template <typename S, typename V> static void fields(S& s, V& v) { v("kind", s.kind); }
//   };
//
// Decoding moves each known field that has the expected type into its member
// and keeps everything else -- fields this version does not know, and known
// fields of the wrong type -- in `unknownFields`. Encoding starts from
// `unknownFields` and writes the members that are set. So toJson(fromJson(x))
// == x for any object x, and an operator built from an older API version never
// drops what a newer one wrote. Every member is optional so that an absent
// field and a zero value stay distinguishable.
#pragma once

#include "api/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace remedy::api {

// Kubernetes' IntOrString: `replicas: 3` or `replicas: "+2"`.
class IntOrString {
 public:
  IntOrString() = default;
  IntOrString(int64_t value) : value_(value) {}                   // NOLINT: implicit like the JSON
  IntOrString(std::string value) : value_(std::move(value)) {}    // NOLINT
  IntOrString(const char* value) : value_(std::string(value)) {}  // NOLINT

  bool isInt() const { return value_.index() == 0; }
  int64_t intValue() const { return std::get<0>(value_); }
  const std::string& stringValue() const { return std::get<1>(value_); }
  std::string str() const { return isInt() ? std::to_string(intValue()) : stringValue(); }
  bool operator==(const IntOrString& other) const { return value_ == other.value_; }

 private:
  std::variant<int64_t, std::string> value_{int64_t{0}};
};

// Specialize with `static constexpr std::pair<E, const char*> kNames[] = {...};`
// listing the API spelling of each value.
template <typename E>
struct EnumTraits;

template <typename E>
const char* enumName(E value) {
  for (const auto& [e, name] : EnumTraits<E>::kNames) {
    if (e == value) return name;
  }
  return "";
}

template <typename E>
std::optional<E> parseEnum(std::string_view text) {
  for (const auto& [e, name] : EnumTraits<E>::kNames) {
    if (text == name) return e;
  }
  return std::nullopt;
}

namespace json_fields {

template <typename T, typename = void>
struct IsStruct : std::false_type {};
template <typename T>
struct IsStruct<T, std::void_t<decltype(std::declval<T&>().unknownFields)>> : std::true_type {};

template <typename T, typename = void>
struct IsEnum : std::false_type {};
template <typename T>
struct IsEnum<T, std::void_t<decltype(EnumTraits<T>::kNames)>> : std::true_type {};

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

template <typename T>
struct IsMap : std::false_type {};
template <typename T>
struct IsMap<std::map<std::string, T>> : std::true_type {};

template <typename T>
inline constexpr bool kAlwaysFalse = false;

template <typename T>
bool decode(const nlohmann::json& j, T& out);
template <typename T>
nlohmann::json encode(const T& value);

class FieldReader {
 public:
  FieldReader(const nlohmann::json& in, nlohmann::json& remaining)
      : in_(in), remaining_(remaining) {}
  template <typename T>
  void operator()(const char* key, std::optional<T>& member) {
    auto it = in_.find(key);
    if (it == in_.end()) return;
    T value{};
    if (decode(*it, value)) {
      member = std::move(value);
      remaining_.erase(key);
    }
  }

 private:
  const nlohmann::json& in_;
  nlohmann::json& remaining_;
};

class FieldWriter {
 public:
  explicit FieldWriter(nlohmann::json& out) : out_(out) {}
  template <typename T>
  void operator()(const char* key, const std::optional<T>& member) {
    if (member) out_[key] = encode(*member);
  }

 private:
  nlohmann::json& out_;
};

template <typename T>
bool decode(const nlohmann::json& j, T& out) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    out = j;
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) return false;
    out = j.get<std::string>();
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) return false;
    out = j.get<bool>();
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) return false;
    if (j.is_number_unsigned()) {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
      out = static_cast<T>(u);
      return true;
    }
    auto i = j.get<int64_t>();
    if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max()) return false;
    out = static_cast<T>(i);
    return true;
  } else if constexpr (std::is_same_v<T, double>) {
    if (!j.is_number()) return false;
    out = j.get<double>();
    return true;
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    if (j.is_string()) {
      out = IntOrString(j.get<std::string>());
      return true;
    }
    if (j.is_number_integer() && !j.is_number_unsigned()) {
      out = IntOrString(j.get<int64_t>());
      return true;
    }
    if (j.is_number_unsigned() &&
        j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      out = IntOrString(static_cast<int64_t>(j.get<uint64_t>()));
      return true;
    }
    return false;
  } else if constexpr (IsEnum<T>::value) {
    if (!j.is_string()) return false;
    std::optional<T> e = parseEnum<T>(j.get_ref<const std::string&>());
    if (!e) return false;
    out = *e;
    return true;
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) return false;
    T items;
    items.reserve(j.size());
    for (const auto& element : j) {
      typename T::value_type item{};
      if (!decode(element, item)) return false;
      items.push_back(std::move(item));
    }
    out = std::move(items);
    return true;
  } else if constexpr (IsMap<T>::value) {
    if (!j.is_object()) return false;
    T entries;
    for (auto it = j.begin(); it != j.end(); ++it) {
      typename T::mapped_type value{};
      if (!decode(it.value(), value)) return false;
      entries.emplace(it.key(), std::move(value));
    }
    out = std::move(entries);
    return true;
  } else if constexpr (IsStruct<T>::value) {
    if (!j.is_object()) return false;
    out = T{};
    nlohmann::json remaining = j;
    FieldReader reader(j, remaining);
    T::fields(out, reader);
    out.unknownFields = std::move(remaining);
    return true;
  } else {
    static_assert(kAlwaysFalse<T>, "no JSON mapping for this type");
  }
}

template <typename T>
nlohmann::json encode(const T& value) {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return value;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                       std::is_arithmetic_v<T>) {
    return nlohmann::json(value);
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    return value.isInt() ? nlohmann::json(value.intValue()) : nlohmann::json(value.stringValue());
  } else if constexpr (IsEnum<T>::value) {
    return nlohmann::json(enumName(value));
  } else if constexpr (IsVector<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(encode(item));
    return out;
  } else if constexpr (IsMap<T>::value) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : value) out[k] = encode(v);
    return out;
  } else if constexpr (IsStruct<T>::value) {
    nlohmann::json out =
        value.unknownFields.is_object() ? value.unknownFields : nlohmann::json::object();
    FieldWriter writer(out);
    T::fields(value, writer);
    return out;
  } else {
    static_assert(kAlwaysFalse<T>, "no JSON mapping for this type");
  }
}

}  // namespace json_fields

// Decodes an API object; fails only when `j` is not a JSON object.
template <typename T>
Result<T> fromJson(const nlohmann::json& j) {
  T out{};
  if (!json_fields::decode(j, out))
    return Error{"expected a JSON object, got " + std::string(j.type_name())};
  return out;
}

template <typename T>
nlohmann::json toJson(const T& value) {
  return json_fields::encode(value);
}

}  // namespace remedy::api
