#include "api/password.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

#include "api/encoding.h"

namespace vcube::api {
namespace {

constexpr size_t salt_bytes = 16;
constexpr size_t hash_bytes = 32;
// Bounds the cost a stored hash may demand (a corrupt or hostile entry must not
// make verification take seconds or gigabytes).
constexpr uint64_t scrypt_memory_bytes_max = 256ull << 20;

uint64_t memory_bytes(const scrypt_params& p) {
  return 128ull * static_cast<uint64_t>(p.r) * (uint64_t{1} << p.log2_n);
}

bool is_reasonable(const scrypt_params& p) {
  return p.log2_n >= 1 && p.log2_n <= 20 && p.r >= 1 && p.r <= 32 && p.p >= 1 && p.p <= 16 &&
         memory_bytes(p) <= scrypt_memory_bytes_max;
}

std::optional<std::string> derive(std::string_view password, std::string_view salt,
                                  const scrypt_params& p, size_t length) {
  std::string key(length, '\0');
  // OpenSSL's limit counts the N*r block plus p blocks; twice the block is ample.
  uint64_t maxmem = 2 * memory_bytes(p) + (1u << 20);
  int ok = EVP_PBE_scrypt(
      password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
      salt.size(), uint64_t{1} << p.log2_n, static_cast<uint64_t>(p.r), static_cast<uint64_t>(p.p),
      maxmem, reinterpret_cast<unsigned char*>(key.data()), key.size());
  if (ok != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return key;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// "name=<decimal>" → the number, if it is exactly that.
std::optional<int> parse_param(std::string_view item, std::string_view name) {
  if (item.size() <= name.size() + 1 || item.substr(0, name.size()) != name ||
      item[name.size()] != '=')
    return std::nullopt;
  std::string_view digits = item.substr(name.size() + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  return value;
}

std::optional<scrypt_params> parse_params(std::string_view text) {
  auto items = split(text, ',');
  if (items.size() != 3)
    return std::nullopt;
  auto ln = parse_param(items[0], "ln");
  auto r = parse_param(items[1], "r");
  auto p = parse_param(items[2], "p");
  if (!ln || !r || !p)
    return std::nullopt;
  scrypt_params params{*ln, *r, *p};
  if (!is_reasonable(params))
    return std::nullopt;
  return params;
}

}  // namespace

std::string hash_password(std::string_view password, scrypt_params params) {
  std::string salt(salt_bytes, '\0');
  if (!is_reasonable(params) ||
      RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), salt_bytes) != 1) {
    spdlog::critical("hash_password: bad scrypt parameters or no system randomness");
    std::abort();
  }
  auto key = derive(password, salt, params, hash_bytes);
  if (!key) {
    spdlog::critical("hash_password: scrypt failed");
    std::abort();
  }
  return "$scrypt$ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) +
         ",p=" + std::to_string(params.p) + "$" + base64_encode_std(salt) + "$" +
         base64_encode_std(*key);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  auto parts = split(encoded, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt")
    return false;
  auto params = parse_params(parts[2]);
  auto salt = base64_decode_std(parts[3]);
  auto expected = base64_decode_std(parts[4]);
  if (!params || !salt || salt->empty() || !expected || expected->size() != hash_bytes)
    return false;
  auto key = derive(password, *salt, *params, expected->size());
  return key && CRYPTO_memcmp(key->data(), expected->data(), key->size()) == 0;
}

}  // namespace vcube::api
