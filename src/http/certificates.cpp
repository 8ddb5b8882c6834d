#include "http/certificates.h"

#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <stdexcept>

namespace remedy::http {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

PKey newKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) throw std::runtime_error("cannot generate an EC key");
  return PKey(key);
}

std::string bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string certPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bioString(bio.get());
}

std::string keyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bioString(bio.get());
}

Cert readCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!c) throw std::runtime_error("invalid CA certificate PEM");
  return Cert(c);
}

PKey readKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!k) throw std::runtime_error("invalid CA private key PEM");
  return PKey(k);
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert newCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs,
             long days) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

CertificateAuthority::CertificateAuthority(const std::string& commonName) {
  PKey key = newKey();
  Cert cert = newCert(key.get(), commonName, {}, 3650);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  addExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExtension(cert.get(), cert.get(), NID_key_usage,
               "critical,keyCertSign,cRLSign,digitalSignature");
  addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) throw std::runtime_error("cannot sign CA");
  ca_ = {certPem(cert.get()), keyPem(key.get())};
}

CertificateAuthority::CertificateAuthority(KeyPair ca) : ca_(std::move(ca)) {
  readCert(ca_.certificatePem);
  readKey(ca_.privateKeyPem);
}

KeyPair CertificateAuthority::issue(const std::string& commonName,
                                    const std::vector<std::string>& organizations,
                                    const std::string& subjectAltName, bool server) const {
  Cert caCert = readCert(ca_.certificatePem);
  PKey caKey = readKey(ca_.privateKeyPem);
  PKey key = newKey();
  Cert cert = newCert(key.get(), commonName, organizations, 825);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(caCert.get()));
  addExtension(cert.get(), caCert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), caCert.get(), NID_key_usage,
               "critical,digitalSignature,keyEncipherment");
  addExtension(cert.get(), caCert.get(), NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
  addExtension(cert.get(), caCert.get(), NID_authority_key_identifier, "keyid:always");
  if (!subjectAltName.empty()) {
    addExtension(cert.get(), caCert.get(), NID_subject_alt_name, subjectAltName);
  }
  if (!X509_sign(cert.get(), caKey.get(), EVP_sha256())) {
    throw std::runtime_error("cannot sign certificate");
  }
  return {certPem(cert.get()), keyPem(key.get())};
}

KeyPair CertificateAuthority::issueServer(const std::string& commonName,
                                          const std::vector<std::string>& dnsNames,
                                          const std::vector<std::string>& ipAddresses) const {
  std::string san;
  for (const auto& d : dnsNames) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ipAddresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  return issue(commonName, {}, san, true);
}

KeyPair CertificateAuthority::issueClient(const std::string& commonName,
                                          const std::vector<std::string>& organizations) const {
  return issue(commonName, organizations, "", false);
}

namespace {

std::chrono::system_clock::time_point asTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

CertificateInfo inspectCertificate(const std::string& pem) {
  CertificateInfo info;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return info;
  info.valid = true;
  info.notBefore = asTimePoint(X509_get0_notBefore(cert.get()));
  info.notAfter = asTimePoint(X509_get0_notAfter(cert.get()));
  X509_NAME* subject = X509_get_subject_name(cert.get());
  char cn[256] = "";
  if (X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn) > 0) info.commonName = cn;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        const unsigned char* data = ASN1_STRING_get0_data(name->d.dNSName);
        info.dnsNames.emplace_back(reinterpret_cast<const char*>(data),
                                   static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        char text[64] = "";
        int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        if (inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text)) {
          info.ipAddresses.emplace_back(text);
        }
      }
    }
    GENERAL_NAMES_free(names);
  }
  return info;
}

bool issuedBy(const KeyPair& pair, const std::string& caPem) {
  Bio certBio(
      BIO_new_mem_buf(pair.certificatePem.data(), static_cast<int>(pair.certificatePem.size())));
  Cert cert(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
  Bio keyBio(
      BIO_new_mem_buf(pair.privateKeyPem.data(), static_cast<int>(pair.privateKeyPem.size())));
  PKey key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
  Bio caBio(BIO_new_mem_buf(caPem.data(), static_cast<int>(caPem.size())));
  Cert ca(PEM_read_bio_X509(caBio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert || !key || !ca) return false;
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace remedy::http
