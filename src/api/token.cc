#include "api/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <cassert>
#include <charconv>
#include <cstdlib>

#include "api/encoding.h"
#include "env/files.h"

namespace vcube::api {
namespace {

error invalid_token() {
  return make_error(errc::unauthorized, "invalid token");
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), md,
           &n) == nullptr) {
    spdlog::critical("HMAC-SHA256 failed");
    std::abort();
  }
  return hex_encode(std::string_view(reinterpret_cast<char*>(md), n));
}

std::string token_signer::mac_hex(std::string_view payload) const {
  return hmac_sha256_hex(secret_, payload);
}

std::string token_signer::issue(std::string_view user, int64_t expires_unix_s) const {
  assert(!user.empty());
  assert(user.find(':') == std::string_view::npos);
  std::string payload = std::string(user) + ":" + std::to_string(expires_unix_s);
  return base64_encode_url(payload + ":" + mac_hex(payload));
}

result<std::string> token_signer::verify(std::string_view token, int64_t now_unix_s) const {
  if (token.empty() || token.size() > token_chars_max)
    return invalid_token();
  auto decoded = base64_decode_url(token);
  if (!decoded)
    return invalid_token();
  std::string_view text = *decoded;
  size_t mac_at = text.rfind(':');
  if (mac_at == std::string_view::npos || mac_at == 0)
    return invalid_token();
  std::string_view payload = text.substr(0, mac_at);
  std::string_view mac = text.substr(mac_at + 1);
  std::string expected = mac_hex(payload);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0)
    return invalid_token();
  size_t expiry_at = payload.rfind(':');
  if (expiry_at == std::string_view::npos || expiry_at == 0)
    return invalid_token();
  std::string_view expiry_text = payload.substr(expiry_at + 1);
  int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size())
    return invalid_token();
  if (expiry <= now_unix_s)
    return make_error(errc::unauthorized, "token expired, log in again");
  return std::string(payload.substr(0, expiry_at));
}

std::string generate_auth_key() {
  std::string key(auth_key_bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), auth_key_bytes) != 1) {
    spdlog::critical("generate_auth_key: no system randomness");
    std::abort();
  }
  return key;
}

result<std::string> read_auth_key(const std::string& path) {
  auto key = env::read_file(path);
  if (!key)
    return make_error(key.err().code, "cannot read the token signing key: " + key.err().message);
  if (key->size() < auth_key_bytes)
    return make_error(errc::invalid_input, "token signing key " + path + " has " +
                                               std::to_string(key->size()) + " bytes, needs " +
                                               std::to_string(auth_key_bytes));
  return key;
}

status write_auth_key(const std::string& secret, const std::string& path) {
  return env::write_file_atomic(path, secret, 0600);
}

}  // namespace vcube::api
