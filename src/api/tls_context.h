// TLS contexts for the API: the server's (node certificate and key) and a
// client's, which trusts the cluster CA, or one pinned certificate, or — for
// the first contact of a join only — anything, recording what it saw.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <boost/asio/ssl.hpp>
#include <memory>
#include <string>

#include "common/error.h"

namespace vcube::api {

struct tls_trust {
  enum class kind { ca, pinned, insecure };
  kind how = kind::insecure;
  std::string ca_pem;       // kind::ca: the cluster CA certificate
  std::string fingerprint;  // kind::pinned: SHA-256 "AB:CD:..." of the server certificate

  static tls_trust trust_ca(std::string pem) { return {kind::ca, std::move(pem), {}}; }
  static tls_trust pin(std::string fingerprint) {
    return {kind::pinned, {}, std::move(fingerprint)};
  }
  static tls_trust insecure() { return {}; }
};

// TLS >= 1.2 server context presenting `cert_pem` (optionally followed by its
// chain) with `key_pem`. invalid_input when they do not parse or match.
result<asio::ssl::context> make_server_context(const std::string& cert_pem,
                                               const std::string& key_pem);

// TLS >= 1.2 client context. Every handshake stores the server certificate's
// fingerprint in `*seen_fingerprint` when it is not null (the verify callback
// owns a reference), so a caller can report a mismatch or pin what it saw.
// No host name check: any certificate of the cluster CA is a valid node.
result<asio::ssl::context> make_client_context(
    const tls_trust& trust, std::shared_ptr<std::string> seen_fingerprint = nullptr);

}  // namespace vcube::api
