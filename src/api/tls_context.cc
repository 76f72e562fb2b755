#include "api/tls_context.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "api/tls.h"

namespace vcube::api {
namespace {

// Decides on the leaf (depth 0) only. With an empty `expected` it accepts any
// certificate (insecure); otherwise only the pinned one, whoever signed it.
// For kind::ca it defers to OpenSSL's chain verification.
struct verifier {
  tls_trust::kind how;
  std::string expected;  // normalized fingerprint
  std::shared_ptr<std::string> seen;

  bool operator()(bool preverified, asio::ssl::verify_context& context) const {
    X509_STORE_CTX* store = context.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) != 0)
      return how == tls_trust::kind::ca ? preverified : true;
    std::string fingerprint = fingerprint_sha256(X509_STORE_CTX_get_current_cert(store));
    if (seen)
      *seen = fingerprint;
    switch (how) {
      case tls_trust::kind::ca:
        return preverified;
      case tls_trust::kind::pinned:
        return normalize_fingerprint(fingerprint) == expected;
      case tls_trust::kind::insecure:
        return true;
    }
    return false;
  }
};

void restrict_protocols(asio::ssl::context& context) {
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
}

}  // namespace

result<asio::ssl::context> make_server_context(const std::string& cert_pem,
                                               const std::string& key_pem) {
  asio::ssl::context context(asio::ssl::context::tls_server);
  restrict_protocols(context);
  boost::system::error_code ec;
  context.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (ec)
    return make_error(errc::invalid_input, "server certificate: " + ec.message());
  context.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem, ec);
  if (ec)
    return make_error(errc::invalid_input, "server key: " + ec.message());
  if (SSL_CTX_check_private_key(context.native_handle()) != 1)
    return make_error(errc::invalid_input, "server key does not match its certificate");
  return context;
}

result<asio::ssl::context> make_client_context(const tls_trust& trust,
                                               std::shared_ptr<std::string> seen_fingerprint) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  restrict_protocols(context);
  boost::system::error_code ec;
  if (trust.how == tls_trust::kind::ca) {
    context.add_certificate_authority(asio::buffer(trust.ca_pem), ec);
    if (ec)
      return make_error(errc::invalid_input, "cluster CA certificate: " + ec.message());
  }
  if (trust.how == tls_trust::kind::pinned && normalize_fingerprint(trust.fingerprint).size() != 64)
    return make_error(errc::invalid_input, "pinned fingerprint '" + trust.fingerprint +
                                               "' is not a SHA-256 fingerprint");
  context.set_verify_mode(asio::ssl::verify_peer, ec);
  if (!ec)
    context.set_verify_callback(
        verifier{trust.how, normalize_fingerprint(trust.fingerprint), std::move(seen_fingerprint)},
        ec);
  if (ec)
    return make_error(errc::internal, "cannot set up TLS verification: " + ec.message());
  return context;
}

}  // namespace vcube::api
