// Where the web actions (http, notify, prometheusCheck, prometheusQuery) may
// connect: an administrator's allow-list of hosts and CIDRs, checked against every
// address a host resolves to, once, right before the connection to that
// very address (web_client.h), so a DNS answer that changes between the
// check and the connection (rebinding) cannot slip past.
//
// Allow-list entries (--egress-allow):
//   hooks.slack.com     that host
//   *.example.com       any host under example.com (not example.com itself)
//   10.0.0.0/8, ::1/128 any address in the range
//   *                   any host whose addresses are not denied
// Denied whatever the host (--egress-deny adds more): loopback, link-local
// (169.254.0.0/16 holds the cloud metadata endpoints), unspecified,
// multicast and broadcast addresses, the cloud metadata addresses outside
// link-local, and the API server's addresses. A denied range is opened only
// by an allowed CIDR inside it (127.0.0.1/32 opens one loopback address;
// 0.0.0.0/0 opens nothing denied).
//
// A request that carries a secret (a header or URL from a Secret, a URL with
// a password) goes only to a host the list names, or to an address written
// in the URL that an allowed CIDR holds: never to a name allowed only by "*"
// or by the CIDR its DNS answer falls in.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace remedy::actions {

// An IPv4 or IPv6 address.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4

  static std::optional<IpAddress> parse(const std::string& text);
  std::string text() const;
  // ::ffff:a.b.c.d as a.b.c.d; anything else unchanged.
  IpAddress unmapped() const;
  bool operator==(const IpAddress& o) const { return v6 == o.v6 && bytes == o.bytes; }
};

struct Cidr {
  IpAddress base;
  int prefix = 0;

  // "10.0.0.0/8", "fd00::/8", or an address alone (a /32 or /128).
  static std::optional<Cidr> parse(const std::string& text);
  bool contains(const IpAddress& address) const;
  // Whether every address of `inner` is in this range.
  bool covers(const Cidr& inner) const;
  std::string text() const;
};

struct EgressPolicy {
  std::vector<std::string> allow;
  // Extra denied ranges (the API server's addresses, ranges of one's own).
  std::vector<std::string> deny;
};

struct EgressVerdict {
  bool allowed = false;
  // Why not, naming the host and the address; never a path or a secret.
  std::string reason;
};

class EgressRules {
 public:
  // Refuses an entry that is neither a host, a *.domain, a CIDR nor "*".
  static std::optional<EgressRules> make(const EgressPolicy& policy, std::string* error);
  // Nothing allowed: every request refused (the default of the library and
  // the operator until an administrator writes an allow-list).
  EgressRules() = default;

  // `host` as written in the URL (a name or an address literal), the
  // addresses it resolved to, and whether the request carries a secret.
  EgressVerdict check(const std::string& host, const std::vector<IpAddress>& addresses,
                      bool carriesSecrets) const;

  // The ranges denied whatever the allow-list says (but for a CIDR inside).
  static const std::vector<Cidr>& defaultDenied();

 private:
  bool nameAllowed(const std::string& host) const;
  std::optional<std::string> addressRefusal(const IpAddress& address) const;

  std::vector<std::string> hosts_;     // exact, lower case
  std::vector<std::string> suffixes_;  // ".example.com" for *.example.com
  std::vector<Cidr> cidrs_;
  std::vector<Cidr> denied_;  // the defaults plus EgressPolicy::deny
  bool any_ = false;
};

}  // namespace remedy::actions
