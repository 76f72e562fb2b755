// Session tokens: "user:expiry_unix_s:hmac_sha256_hex" in base64url, signed
// with the cluster's shared secret (/etc/vcube/auth.key), so any node accepts
// a token issued by another. Stateless: a token is valid until it expires.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/paths.h"

namespace vcube::api {

inline constexpr size_t auth_key_bytes = 32;
inline constexpr size_t token_chars_max = 1024;

class token_signer {
 public:
  // `secret` is raw bytes (auth_key_bytes of them from generate_auth_key).
  explicit token_signer(std::string secret) : secret_(std::move(secret)) {}

  // `user` must not be empty nor contain ':' (assertion).
  std::string issue(std::string_view user, int64_t expires_unix_s) const;

  // The user the token was issued for, or errc::unauthorized: "invalid token"
  // (malformed or not signed with this secret) or "token expired, log in
  // again" (expiry <= now). The MAC is compared in constant time.
  result<std::string> verify(std::string_view token, int64_t now_unix_s) const;

 private:
  std::string mac_hex(std::string_view payload) const;

  std::string secret_;
};

// HMAC-SHA256 of `message` under `key`, lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// auth_key_bytes from the system's random source.
std::string generate_auth_key();

// Reads the secret (raw bytes); an error if missing or shorter than auth_key_bytes.
result<std::string> read_auth_key(const std::string& path = paths::auth_key);

// Writes the secret atomically with mode 0600.
status write_auth_key(const std::string& secret, const std::string& path = paths::auth_key);

}  // namespace vcube::api
