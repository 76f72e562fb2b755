#include "esan/link_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cassert>

namespace vcube::esan::auth {
namespace {

std::string mac(std::string_view key, std::string_view label, std::string_view first,
                std::string_view second) {
  std::string message;
  message.reserve(label.size() + first.size() + second.size());
  message.append(label).append(first).append(second);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const auto* done =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length);
  assert(done != nullptr);
  assert(length == mac_bytes);
  (void)done;
  return std::string(reinterpret_cast<const char*>(out), length);
}

bool equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string random_nonce() {
  std::string nonce(nonce_bytes, '\0');
  const int ok = RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), nonce_bytes);
  assert(ok == 1);  // the kernel's random source does not fail once the process runs
  (void)ok;
  return nonce;
}

std::string challenge(std::string_view server_nonce) {
  assert(server_nonce.size() == nonce_bytes);
  return std::string(magic).append(server_nonce);
}

result<std::string> respond(std::string_view key, std::string_view challenge,
                            std::string_view client_nonce) {
  assert(client_nonce.size() == nonce_bytes);
  if (challenge.size() != challenge_bytes || challenge.substr(0, magic.size()) != magic)
    return make_error(errc::unavailable, "the server did not ask for eSAN authentication");
  const auto server_nonce = challenge.substr(magic.size());
  return std::string(client_nonce).append(mac(key, "client", server_nonce, client_nonce));
}

result<std::string> check_response(std::string_view key, std::string_view server_nonce,
                                   std::string_view response, std::string& client_nonce) {
  if (response.size() != response_bytes)
    return make_error(errc::forbidden, "authentication failed: a short response");
  const auto nonce = response.substr(0, nonce_bytes);
  if (!equal(response.substr(nonce_bytes), mac(key, "client", server_nonce, nonce)))
    return make_error(errc::forbidden, "authentication failed: wrong key");
  client_nonce = std::string(nonce);
  return mac(key, "server", client_nonce, server_nonce);
}

bool is_valid_proof(std::string_view key, std::string_view server_nonce,
                    std::string_view client_nonce, std::string_view proof) {
  return equal(proof, mac(key, "server", client_nonce, server_nonce));
}

}  // namespace vcube::esan::auth
