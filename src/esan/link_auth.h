// link_auth: mutual authentication of an eSAN TCP connection with the key the
// cluster shares (docs/esan.md, "Authentication"), before a byte of NBD is
// said. HMAC-SHA256 challenge-response, in the manner of DRBD's
// cram-hmac-alg + shared-secret:
//
//   server → client  "VCESAUTH" + 32-byte server nonce            (challenge)
//   client → server  32-byte client nonce + HMAC(key, "client" ‖ Ns ‖ Nc)
//   server → client  HMAC(key, "server" ‖ Nc ‖ Ns)                (proof)
//
// A wrong key costs the client its connection; a server that cannot prove
// the key is not talked to. Pure but for the nonces (OpenSSL's RAND_bytes).
// It authenticates the connection, it does not encrypt it: the eSAN link is
// meant for the cluster network.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::esan::auth {

inline constexpr std::string_view magic = "VCESAUTH";
inline constexpr size_t nonce_bytes = 32;
inline constexpr size_t mac_bytes = 32;
inline constexpr size_t challenge_bytes = magic.size() + nonce_bytes;
inline constexpr size_t response_bytes = nonce_bytes + mac_bytes;
inline constexpr size_t proof_bytes = mac_bytes;
inline constexpr size_t key_bytes_min = 16;

// nonce_bytes random bytes.
std::string random_nonce();

// The server's first message.
std::string challenge(std::string_view server_nonce);

// The client's answer to `challenge` (challenge_bytes); an error when it is
// not an eSAN challenge.
result<std::string> respond(std::string_view key, std::string_view challenge,
                            std::string_view client_nonce);

// The server's check of a response (response_bytes); on success
// `client_nonce` is set and the proof to send is returned.
result<std::string> check_response(std::string_view key, std::string_view server_nonce,
                                   std::string_view response, std::string& client_nonce);

// The client's check of the server's proof.
bool is_valid_proof(std::string_view key, std::string_view server_nonce,
                    std::string_view client_nonce, std::string_view proof);

}  // namespace vcube::esan::auth
