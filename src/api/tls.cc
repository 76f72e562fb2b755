#include "api/tls.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "api/tls_internal.h"

namespace vcube::api {
namespace {

using detail::openssl_error;

bool is_valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.front() == '.')
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok)
      return false;
  }
  return true;
}

bool is_ip_literal(const std::string& address) {
  unsigned char buf[16];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

status set_common_name(X509_NAME* name, std::string_view cn) {
  auto* bytes = reinterpret_cast<const unsigned char*>(cn.data());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, bytes, static_cast<int>(cn.size()), -1,
                                 0) != 1)
    return openssl_error(errc::internal, "cannot set certificate common name");
  return ok_status();
}

// Adds an extension written in openssl.cnf syntax ("critical,CA:TRUE").
status add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    return openssl_error(errc::internal, std::string("cannot build extension ") + value);
  int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (added != 1)
    return openssl_error(errc::internal, std::string("cannot add extension ") + value);
  return ok_status();
}

// A v3 certificate with a random 159-bit serial, valid from 5 minutes ago
// (tolerates clock skew between nodes) for `valid_days`.
result<certificate> new_certificate(EVP_PKEY* subject_key, int valid_days) {
  certificate cert(X509_new());
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  if (!cert || !serial || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), valid_days, 0, nullptr) == nullptr ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return openssl_error(errc::internal, "cannot create a certificate");
  return cert;
}

status add_extensions(X509* cert, X509* issuer,
                      std::initializer_list<std::pair<int, const char*>> extensions) {
  for (const auto& [nid, value] : extensions) {
    if (auto st = add_extension(cert, issuer, nid, value); !st)
      return st;
  }
  return ok_status();
}

// Copies the subjectAltName of `csr` into `cert`; invalid_input if it has none.
status copy_subject_alt_name(X509_REQ* csr, X509* cert) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr);
  bool copied = false;
  for (int i = 0; exts != nullptr && i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name)
      copied = X509_add_ext(cert, ext, -1) == 1;
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (!copied)
    return make_error(errc::invalid_input, "certificate request has no subjectAltName", "csr");
  return ok_status();
}

std::string name_common_name(X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0)
    return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0)
    return {};
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace

result<private_key> generate_key() {
  private_key key(EVP_EC_gen("P-256"));
  if (!key)
    return openssl_error(errc::internal, "cannot generate an EC P-256 key");
  return key;
}

result<certificate> create_ca(const private_key& key, std::string_view cluster_name,
                              int valid_days) {
  auto cert = new_certificate(key.get(), valid_days);
  if (!cert)
    return cert.err();
  X509* x = cert->get();
  if (auto st = set_common_name(X509_get_subject_name(x),
                                "vcube cluster CA " + std::string(cluster_name));
      !st)
    return st.err();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
    return openssl_error(errc::internal, "cannot set CA issuer");
  auto st = add_extensions(x, x,
                           {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid:always"}});
  if (!st)
    return st.err();
  if (X509_sign(x, key.get(), EVP_sha256()) <= 0)
    return openssl_error(errc::internal, "cannot sign the CA certificate");
  return cert;
}

result<cert_request> create_csr(const private_key& key, std::string_view node_name,
                                std::string_view address) {
  if (!is_valid_node_name(node_name))
    return make_error(
        errc::invalid_input,
        "node name '" + std::string(node_name) + "' must be 1-63 letters, digits, '-' or '.'",
        "name");
  std::string addr(address);
  if (!is_ip_literal(addr))
    return make_error(errc::invalid_input, "address '" + addr + "' is not an IP address",
                      "address");
  cert_request req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1)
    return openssl_error(errc::internal, "cannot create a certificate request");
  if (auto st = set_common_name(X509_REQ_get_subject_name(req.get()), node_name); !st)
    return st.err();
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  std::string san = "IP:" + addr + ",DNS:" + std::string(node_name);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
  if (ext == nullptr)
    return openssl_error(errc::internal, "cannot build subjectAltName " + san);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, ext);
  int added = X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (added != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0)
    return openssl_error(errc::internal, "cannot sign the certificate request");
  return req;
}

result<certificate> sign_csr(const certificate& ca_cert, const private_key& ca_key,
                             const cert_request& csr, int valid_days) {
  if (valid_days < 1 || valid_days > node_valid_days_max)
    return make_error(errc::invalid_input, "node certificate validity must be 1 to " +
                                               std::to_string(node_valid_days_max) + " days");
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1)
    return openssl_error(errc::invalid_input, "the CA key does not match the CA certificate");
  EVP_PKEY* pub = X509_REQ_get0_pubkey(csr.get());
  if (pub == nullptr || X509_REQ_verify(csr.get(), pub) != 1)
    return openssl_error(errc::invalid_input, "certificate request signature is invalid");
  std::string cn = name_common_name(X509_REQ_get_subject_name(csr.get()));
  if (cn.empty())
    return make_error(errc::invalid_input, "certificate request has no common name", "csr");
  auto cert = new_certificate(pub, valid_days);
  if (!cert)
    return cert.err();
  X509* x = cert->get();
  if (auto st = set_common_name(X509_get_subject_name(x), cn); !st)
    return st.err();
  if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert.get())) != 1)
    return openssl_error(errc::internal, "cannot set certificate issuer");
  if (auto st = copy_subject_alt_name(csr.get(), x); !st)
    return st.err();
  auto st = add_extensions(x, ca_cert.get(),
                           {{NID_basic_constraints, "critical,CA:FALSE"},
                            {NID_key_usage, "critical,digitalSignature,keyAgreement"},
                            {NID_ext_key_usage, "serverAuth,clientAuth"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_authority_key_identifier, "keyid"}});
  if (!st)
    return st.err();
  if (X509_sign(x, ca_key.get(), EVP_sha256()) <= 0)
    return openssl_error(errc::internal, "cannot sign the node certificate");
  return cert;
}

status verify_chain(const certificate& ca, const certificate& leaf) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr) != 1)
    return openssl_error(errc::internal, "cannot set up certificate verification");
  if (X509_verify_cert(ctx.get()) != 1) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return make_error(errc::unauthorized, std::string("certificate does not verify: ") +
                                              X509_verify_cert_error_string(code));
  }
  return ok_status();
}

std::string common_name(const certificate& cert) {
  return name_common_name(X509_get_subject_name(cert.get()));
}

}  // namespace vcube::api
