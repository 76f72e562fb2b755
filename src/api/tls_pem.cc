// PEM conversion and fingerprints for the types of tls.h.
#include <openssl/err.h>
#include <openssl/pem.h>

#include "api/tls.h"
#include "api/tls_internal.h"

namespace vcube::api {
namespace detail {

error openssl_error(errc code, const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0)
    return make_error(code, what);
  char reason[256];
  ERR_error_string_n(e, reason, sizeof reason);
  return make_error(code, what + " (" + reason + ")");
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

}  // namespace detail

namespace {

using detail::bio_ptr;
using detail::openssl_error;

// Never prompt on a terminal for a passphrase: encrypted PEM is refused.
int no_password(char*, int, int, void*) {
  return 0;
}

bio_ptr reader(std::string_view pem) {
  return bio_ptr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

template <class Write>
std::string write_pem(Write write) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return detail::bio_contents(bio.get());
}

}  // namespace

std::string fingerprint_sha256(const certificate& cert) {
  return fingerprint_sha256(cert.get());
}

std::string normalize_fingerprint(std::string_view fingerprint) {
  std::string out;
  for (char c : fingerprint) {
    if (c != ':')
      out += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

std::string fingerprint_sha256(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) {
    ERR_clear_error();
    return {};
  }
  constexpr std::string_view digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    if (i > 0)
      out += ':';
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

result<std::string> fingerprint_sha256_pem(std::string_view cert_pem) {
  auto cert = cert_from_pem(cert_pem);
  if (!cert)
    return cert.err();
  return fingerprint_sha256(*cert);
}

result<private_key> key_from_pem(std::string_view pem) {
  bio_ptr bio = reader(pem);
  private_key key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr)
                      : nullptr);
  if (!key)
    return openssl_error(errc::invalid_input, "not a PEM private key (or it is encrypted)");
  return key;
}

result<certificate> cert_from_pem(std::string_view pem) {
  bio_ptr bio = reader(pem);
  certificate cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!cert)
    return openssl_error(errc::invalid_input, "not a PEM certificate");
  return cert;
}

result<cert_request> csr_from_pem(std::string_view pem) {
  bio_ptr bio = reader(pem);
  cert_request csr(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, no_password, nullptr) : nullptr);
  if (!csr)
    return openssl_error(errc::invalid_input, "not a PEM certificate request");
  return csr;
}

std::string to_pem(const private_key& key) {
  return write_pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string to_pem(const certificate& cert) {
  return write_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
}

std::string to_pem(const cert_request& csr) {
  return write_pem([&](BIO* bio) { return PEM_write_bio_X509_REQ(bio, csr.get()); });
}

}  // namespace vcube::api
