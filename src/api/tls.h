// The cluster's public-key infrastructure on OpenSSL 3: EC P-256 keys, the
// self-signed cluster CA, node certificate requests and their signing, PEM
// conversion and SHA-256 fingerprints. Owning handles are unique_ptrs that
// free with the matching OpenSSL function; nothing here keeps global state.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::api {

struct evp_pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
struct x509_req_free {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
using private_key = std::unique_ptr<EVP_PKEY, evp_pkey_free>;
using certificate = std::unique_ptr<X509, x509_free>;
using cert_request = std::unique_ptr<X509_REQ, x509_req_free>;

inline constexpr int ca_valid_days = 3652;    // 10 years
inline constexpr int node_valid_days = 1826;  // 5 years
inline constexpr int node_valid_days_max = 1827;

// A new EC P-256 key.
result<private_key> generate_key();

// A self-signed CA: CN "vcube cluster CA <cluster_name>", CA:TRUE, pathlen 0.
result<certificate> create_ca(const private_key& key, std::string_view cluster_name,
                              int valid_days = ca_valid_days);

// A request for a node certificate: CN = node_name, subjectAltName
// IP:<address>, DNS:<node_name>. invalid_input for a name outside
// [A-Za-z0-9.-] (1..63 chars) or an address that is not an IP literal.
result<cert_request> create_csr(const private_key& key, std::string_view node_name,
                                std::string_view address);

// Signs `csr` with the CA: subject and subjectAltName come from the request
// (nothing else does), CA:FALSE, extendedKeyUsage serverAuth + clientAuth.
// invalid_input when the request's signature does not verify or it has no CN.
result<certificate> sign_csr(const certificate& ca_cert, const private_key& ca_key,
                             const cert_request& csr, int valid_days = node_valid_days);

// X509_verify_cert of `leaf` against `ca` as the only trust anchor.
status verify_chain(const certificate& ca, const certificate& leaf);

// The certificate's subject CN ("" if none).
std::string common_name(const certificate& cert);

// SHA-256 of the DER certificate, "AB:CD:..." (upper-case, 95 characters).
std::string fingerprint_sha256(const certificate& cert);
std::string fingerprint_sha256(const X509* cert);
// Upper-case hex with the colons removed, so "ab:cd" and "ABCD" compare equal.
std::string normalize_fingerprint(std::string_view fingerprint);
result<std::string> fingerprint_sha256_pem(std::string_view cert_pem);

result<private_key> key_from_pem(std::string_view pem);
result<certificate> cert_from_pem(std::string_view pem);
result<cert_request> csr_from_pem(std::string_view pem);
std::string to_pem(const private_key& key);  // unencrypted PKCS#8
std::string to_pem(const certificate& cert);
std::string to_pem(const cert_request& csr);

}  // namespace vcube::api
