#include "actions/egress_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace remedy::actions {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A host as compared: lower case, without a trailing dot or IPv6 brackets.
std::string normalHost(std::string host) {
  host = lower(std::move(host));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  while (!host.empty() && host.back() == '.') host.pop_back();
  return host;
}

bool validHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string label =
        host.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

struct NamedRange {
  const char* cidr;
  const char* what;
};

// The ranges denied by default, with what they are for messages.
const std::vector<NamedRange>& namedDefaults() {
  static const std::vector<NamedRange> ranges = {
      {"0.0.0.0/8", "unspecified"},
      {"127.0.0.0/8", "loopback"},
      {"169.254.0.0/16", "link-local, where cloud metadata endpoints live"},
      {"224.0.0.0/4", "multicast"},
      {"255.255.255.255/32", "broadcast"},
      {"100.100.100.200/32", "a cloud metadata endpoint"},
      {"::/128", "unspecified"},
      {"::1/128", "loopback"},
      {"fe80::/10", "link-local"},
      {"ff00::/8", "multicast"},
      {"fd00:ec2::254/128", "a cloud metadata endpoint"},
  };
  return ranges;
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
  IpAddress a;
  std::string t = normalHost(text);
  if (inet_pton(AF_INET, t.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, t.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::string IpAddress::text() const {
  char out[INET6_ADDRSTRLEN] = {0};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), out, sizeof out);
  return out;
}

IpAddress IpAddress::unmapped() const {
  if (!v6) return *this;
  // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64, RFC 6052)
  // reach the IPv4 address they carry.
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(bytes.data(), kMapped, 12) == 0 || std::memcmp(bytes.data(), kNat64, 12) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
    return v4;
  }
  return *this;
}

std::optional<Cidr> Cidr::parse(const std::string& text) {
  Cidr c;
  size_t slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  c.base = *address;
  int bits = c.base.v6 ? 128 : 32;
  c.prefix = bits;
  if (slash != std::string::npos) {
    std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 ||
        !std::all_of(p.begin(), p.end(), [](char ch) { return std::isdigit(ch); })) {
      return std::nullopt;
    }
    c.prefix = std::stoi(p);
    if (c.prefix > bits) return std::nullopt;
  }
  // The base with the host bits cleared, so "10.1.2.3/8" means 10.0.0.0/8.
  for (int i = 0; i < bits / 8; ++i) {
    int keep = std::clamp(c.prefix - i * 8, 0, 8);
    c.base.bytes[i] &= static_cast<uint8_t>(0xff << (8 - keep));
  }
  return c;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  for (int i = 0; i < prefix / 8; ++i) {
    if (address.bytes[i] != base.bytes[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[prefix / 8] & mask) == (base.bytes[prefix / 8] & mask);
}

bool Cidr::covers(const Cidr& inner) const {
  return inner.base.v6 == base.v6 && inner.prefix >= prefix && contains(inner.base);
}

std::string Cidr::text() const { return base.text() + "/" + std::to_string(prefix); }

const std::vector<Cidr>& EgressRules::defaultDenied() {
  static const std::vector<Cidr> ranges = [] {
    std::vector<Cidr> out;
    for (const auto& r : namedDefaults()) out.push_back(*Cidr::parse(r.cidr));
    return out;
  }();
  return ranges;
}

std::optional<EgressRules> EgressRules::make(const EgressPolicy& policy, std::string* error) {
  EgressRules rules;
  rules.denied_ = defaultDenied();
  for (const std::string& raw : policy.allow) {
    std::string entry = normalHost(raw);
    if (entry.empty()) continue;
    if (entry == "*") {
      rules.any_ = true;
    } else if (entry.find('/') != std::string::npos || IpAddress::parse(entry)) {
      auto cidr = Cidr::parse(entry);
      if (!cidr) {
        *error = "\"" + raw + "\" is not a CIDR such as 10.0.0.0/8";
        return std::nullopt;
      }
      rules.cidrs_.push_back(*cidr);
    } else if (entry.rfind("*.", 0) == 0 && validHostName(entry.substr(2))) {
      rules.suffixes_.push_back(entry.substr(1));
    } else if (validHostName(entry)) {
      rules.hosts_.push_back(entry);
    } else {
      *error = "\"" + raw + "\" is neither a host name, *.domain, a CIDR nor *";
      return std::nullopt;
    }
  }
  for (const std::string& raw : policy.deny) {
    auto cidr = Cidr::parse(normalHost(raw));
    if (!cidr) {
      *error = "\"" + raw + "\" is not a CIDR or an address to deny";
      return std::nullopt;
    }
    rules.denied_.push_back(*cidr);
  }
  return rules;
}

bool EgressRules::nameAllowed(const std::string& host) const {
  if (IpAddress::parse(host)) return false;  // addresses are allowed by CIDR only
  if (std::find(hosts_.begin(), hosts_.end(), host) != hosts_.end()) return true;
  return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& suffix) {
    return host.size() > suffix.size() &&
           host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

std::optional<std::string> EgressRules::addressRefusal(const IpAddress& address) const {
  for (size_t i = 0; i < denied_.size(); ++i) {
    const Cidr& range = denied_[i];
    if (!range.contains(address)) continue;
    bool opened = std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Cidr& c) {
      return range.covers(c) && c.contains(address);
    });
    if (opened) continue;
    std::string what = i < namedDefaults().size() ? namedDefaults()[i].what
                                                  : "denied by --egress-deny or the API server's";
    return address.text() + " is in " + range.text() + " (" + what + ")";
  }
  return std::nullopt;
}

EgressVerdict EgressRules::check(const std::string& rawHost,
                                 const std::vector<IpAddress>& addresses,
                                 bool carriesSecrets) const {
  EgressVerdict v;
  std::string host = normalHost(rawHost);
  if (addresses.empty()) {
    v.reason = "host " + host + " resolved to no address";
    return v;
  }
  bool named = nameAllowed(host);
  bool literal = IpAddress::parse(host).has_value();
  bool everyByCidr = true;
  for (const IpAddress& raw : addresses) {
    IpAddress a = raw.unmapped();
    if (auto refusal = addressRefusal(a)) {
      v.reason = "host " + host + ": " + *refusal + ", which the egress policy denies";
      return v;
    }
    bool byCidr =
        std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Cidr& c) { return c.contains(a); });
    everyByCidr = everyByCidr && byCidr;
    if (!named && !byCidr && !any_) {
      v.reason = "host " + host + " (" + a.text() + ") is not on the egress allow-list";
      return v;
    }
  }
  // A name reached only through "*" or a CIDR is whatever DNS says it is:
  // secrets go only where the administrator wrote the name (or the address).
  if (carriesSecrets && !named && !(literal && everyByCidr)) {
    v.reason =
        "the request carries a secret, and host " + host + " is not named on the egress allow-list";
    return v;
  }
  v.allowed = true;
  return v;
}

}  // namespace remedy::actions
