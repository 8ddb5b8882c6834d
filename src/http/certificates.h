// Generates a private CA and certificates signed by it, with OpenSSL, so a
// server can offer HTTPS and accept client certificates without any files
// prepared ahead of time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace remedy::http {

struct KeyPair {
  std::string certificatePem;
  std::string privateKeyPem;
};

class CertificateAuthority {
 public:
  // A new self-signed CA (EC P-256, valid for ten years).
  explicit CertificateAuthority(const std::string& commonName);
  // Uses an existing CA certificate and key.
  explicit CertificateAuthority(KeyPair ca);

  const KeyPair& ca() const { return ca_; }

  // A serving certificate for DNS names and IP addresses (subjectAltName).
  KeyPair issueServer(const std::string& commonName, const std::vector<std::string>& dnsNames,
                      const std::vector<std::string>& ipAddresses) const;
  // A client certificate: Kubernetes reads the user from CN and the groups
  // from O.
  KeyPair issueClient(const std::string& commonName,
                      const std::vector<std::string>& organizations) const;

 private:
  KeyPair issue(const std::string& commonName, const std::vector<std::string>& organizations,
                const std::string& subjectAltName, bool server) const;
  KeyPair ca_;
};

// What a certificate says, for deciding whether it still serves: its
// validity and subjectAltNames. `valid` is false when `pem` holds no
// certificate.
struct CertificateInfo {
  bool valid = false;
  std::string commonName;
  std::chrono::system_clock::time_point notBefore;
  std::chrono::system_clock::time_point notAfter;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
};
CertificateInfo inspectCertificate(const std::string& pem);

// Whether `pair`'s certificate was issued by the CA certificate `caPem`
// (signature and chain), and `pair`'s private key belongs to it.
bool issuedBy(const KeyPair& pair, const std::string& caPem);

}  // namespace remedy::http
