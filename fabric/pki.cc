#include "fabric/pki.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace corral::pki {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Req = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// The reason OpenSSL gave for the last failure, after `what`.
Status SslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return Status::Invalid(what);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return Status::Invalid(what + " (" + buf + ")");
}

Bio MemIn(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string Drain(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<Key> ReadKey(const std::string& pem, bool is_private) {
  if (pem.size() > (1 << 16)) return Status::Invalid("key: longer than 64 KiB");
  Bio in = MemIn(pem);
  EVP_PKEY* k = is_private ? PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr)
                           : PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr);
  if (!k) return SslError(is_private ? "private key: not a PEM key" : "public key: not PEM");
  return Key(k);
}

Result<Cert> ReadCert(const std::string& pem) {
  if (pem.size() > (1 << 16)) return Status::Invalid("certificate: longer than 64 KiB");
  Bio in = MemIn(pem);
  X509* c = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr);
  if (!c) return SslError("certificate: not a PEM certificate");
  return Cert(c);
}

std::string WriteCert(X509* c) {
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), c);
  return Drain(out.get());
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return SslError("certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

// A certificate with a random serial, `days` of validity from an hour ago (clock skew), the
// subject CN, and `key` as its public key; issuer and extensions are the caller's.
Result<Cert> NewCert(EVP_PKEY* key, const std::string& cn, int64_t days) {
  if (cn.empty() || cn.size() > 64) return Status::Invalid("certificate name: 1 to 64 characters");
  if (days < 1 || days > 36500) return Status::Invalid("certificate validity: 1 to 36500 days");
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  Bn serial(BN_new());
  if (!BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(c.get()))) {
    return SslError("certificate serial");
  }
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_time_adj_ex(X509_getm_notAfter(c.get()), static_cast<int>(days), 0, nullptr);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Corral"), -1, -1, 0);
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0)) {
    return SslError("certificate name " + cn);
  }
  return c;
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = d[p[i] >> 4];
    s[2 * i + 1] = d[p[i] & 15];
  }
  return s;
}

bool SafeName(const std::string& s) {
  for (char c : s) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':')) return false;
  }
  return !s.empty() && s.size() <= 253;
}

}  // namespace

Result<std::string> NewKey() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) return SslError("new EC key");
  Bio out(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(out.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    return SslError("writing the key");
  }
  return Drain(out.get());
}

Result<KeyCert> NewCa(const std::string& name, int days) {
  auto pem = NewKey();
  if (!pem.ok()) return pem.status();
  auto key = ReadKey(*pem, true);
  if (!key.ok()) return key.status();
  auto c = NewCert(key->get(), name, days);
  if (!c.ok()) return c.status();
  X509* x = c->get();
  X509_set_issuer_name(x, X509_get_subject_name(x));
  for (auto [nid, v] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                        {NID_subject_key_identifier, "hash"}}) {
    if (Status s = AddExt(x, x, nid, v); !s.ok()) return s;
  }
  if (!X509_sign(x, key->get(), EVP_sha256())) return SslError("signing the CA certificate");
  return KeyCert{*pem, WriteCert(x)};
}

Result<std::string> Issue(const KeyCert& ca, const std::string& public_key_pem, const Leaf& leaf) {
  auto ca_key = ReadKey(ca.key_pem, true);
  if (!ca_key.ok()) return ca_key.status();
  auto ca_cert = ReadCert(ca.cert_pem);
  if (!ca_cert.ok()) return ca_cert.status();
  auto pub = ReadKey(public_key_pem, false);
  if (!pub.ok()) return pub.status();
  auto c = NewCert(pub->get(), leaf.common_name, leaf.days);
  if (!c.ok()) return c.status();
  X509* x = c->get();
  X509_set_issuer_name(x, X509_get_subject_name(ca_cert->get()));
  std::string san;
  if (leaf.server) {
    san = std::string("DNS:") + kServerName;
    for (const auto& d : leaf.dns) {
      if (!SafeName(d)) return Status::Invalid("server name \"" + d.substr(0, 64) + "\"");
      san += ",DNS:" + d;
    }
    for (const auto& ip : leaf.ips) {
      if (!SafeName(ip)) return Status::Invalid("server address \"" + ip.substr(0, 64) + "\"");
      san += ",IP:" + ip;
    }
  } else {
    if (!SafeName(leaf.uri)) return Status::Invalid("certificate URI \"" + leaf.uri.substr(0, 64));
    san = "URI:" + leaf.uri;
  }
  for (auto [nid, v] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                        {NID_ext_key_usage, leaf.server ? "serverAuth" : "clientAuth"},
                        {NID_subject_key_identifier, "hash"},
                        {NID_authority_key_identifier, "keyid:always"},
                        {NID_subject_alt_name, san}}) {
    if (Status s = AddExt(x, ca_cert->get(), nid, v); !s.ok()) return s;
  }
  if (!X509_sign(x, ca_key->get(), EVP_sha256())) return SslError("signing the certificate");
  return WriteCert(x);
}

Result<KeyCert> IssueNew(const KeyCert& ca, const Leaf& leaf) {
  auto pem = NewKey();
  if (!pem.ok()) return pem.status();
  auto key = ReadKey(*pem, true);
  if (!key.ok()) return key.status();
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(out.get(), key->get());
  auto cert = Issue(ca, Drain(out.get()), leaf);
  if (!cert.ok()) return cert.status();
  return KeyCert{*pem, *cert};
}

Result<std::string> NewCsr(const std::string& key_pem, const std::string& common_name) {
  auto key = ReadKey(key_pem, true);
  if (!key.ok()) return key.status();
  Req r(X509_REQ_new());
  X509_REQ_set_version(r.get(), 0);
  X509_NAME* name = X509_REQ_get_subject_name(r.get());
  if (common_name.empty() || common_name.size() > 64 ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0)) {
    return Status::Invalid("certificate request: name must be 1 to 64 characters");
  }
  X509_REQ_set_pubkey(r.get(), key->get());
  if (!X509_REQ_sign(r.get(), key->get(), EVP_sha256())) return SslError("signing the request");
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(out.get(), r.get());
  return Drain(out.get());
}

Result<std::string> CsrPublicKey(const std::string& csr_pem) {
  if (csr_pem.size() > (1 << 16)) return Status::Invalid("csr: longer than 64 KiB");
  Bio in = MemIn(csr_pem);
  Req r(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  if (!r) return SslError("csr: not a PEM certificate request");
  EVP_PKEY* k = X509_REQ_get0_pubkey(r.get());
  if (!k || X509_REQ_verify(r.get(), k) != 1) return SslError("csr: its signature does not check");
  if (EVP_PKEY_get_bits(k) < 256) return Status::Invalid("csr: the key is too short");
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(out.get(), k);
  return Drain(out.get());
}

Result<CertInfo> Inspect(const std::string& cert_pem) {
  auto c = ReadCert(cert_pem);
  if (!c.ok()) return c.status();
  CertInfo info;
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(c->get()), NID_commonName, cn, sizeof cn) >
      0) {
    info.common_name = cn;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(c->get(), EVP_sha256(), md, &n);
  info.fingerprint = Hex(md, n);
  struct tm t = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(c->get()), &t) == 1) {
    info.not_after_ms = static_cast<int64_t>(timegm(&t)) * 1000;
  }
  return info;
}

Status VerifySignedBy(const std::string& ca_pem, const std::string& cert_pem) {
  auto ca = ReadCert(ca_pem);
  if (!ca.ok()) return ca.status();
  auto c = ReadCert(cert_pem);
  if (!c.ok()) return c.status();
  std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca->get());
  std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), c->get(), nullptr);
  if (X509_verify_cert(ctx.get()) != 1) {
    return Status::Invalid(std::string("certificate: ") +
                           X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Status::Ok();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

std::string HmacHex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &n);
  return Hex(md, n);
}

std::string RandomHex(int bytes) {
  std::string buf(static_cast<size_t>(bytes), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), bytes) != 1) {
    // Without randomness no secret may be made; this never happens on Linux (getrandom).
    abort();
  }
  return Hex(reinterpret_cast<const unsigned char*>(buf.data()), buf.size());
}

bool SecretEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace corral::pki
