// Password hashing with scrypt (OpenSSL's EVP_PBE_scrypt). The stored form is
// "$scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>", so the cost can be
// raised later without invalidating existing hashes.
#pragma once

#include <string>
#include <string_view>

namespace vcube::api {

struct scrypt_params {
  // N = 2^15, r = 8, p = 1: 32 MiB and, measured on the development machine
  // (2 cores, OpenSSL 3.0), 118 ms per hash; ln=14 would take 50 ms. We keep
  // the stronger of the two: a login is rare, a stolen database is forever.
  int log2_n = 15;
  int r = 8;
  int p = 1;
};

// Hashes with a fresh 16-byte random salt into a 32-byte key. Aborts only if
// the system's random source fails.
std::string hash_password(std::string_view password, scrypt_params params = {});

// True when `encoded` (a hash_password result) matches `password`. Compares in
// constant time. False for anything malformed or with an unreasonable cost.
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace vcube::api
