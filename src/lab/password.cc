#include "lab/password.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace vcube::lab {

result<std::string> generate_password(std::size_t length) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr unsigned alphabet_size = sizeof alphabet - 1;  // 62
  std::string out;
  int rounds_left = 64;  // rejection sampling needs ~1.03 bytes per character
  while (out.size() < length && rounds_left-- > 0) {
    unsigned char bytes[64];
    ssize_t n = getrandom(bytes, sizeof bytes, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return make_error(errc::internal, std::string("getrandom: ") + strerror(errno));
    for (ssize_t i = 0; i < n && out.size() < length; ++i) {
      // 248 = 4 * 62: dropping bytes >= 248 keeps every character equally likely.
      if (bytes[i] < 4 * alphabet_size)
        out += alphabet[bytes[i] % alphabet_size];
    }
  }
  if (out.size() < length)
    return make_error(errc::internal, "could not gather enough random bytes for a password");
  return out;
}

}  // namespace vcube::lab
