// libFuzzer target for the replication protocol decoder: the first byte sets
// the chunk size the rest is fed in. Nothing may crash; a frame judged valid
// must lie inside the volume and encode back to the bytes it came from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "esan/repl_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vcube::esan::repl;
  if (size == 0)
    return 0;
  const size_t chunk = size_t{data[0]} + 1;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const volume_limits limits{1 << 20, 65536};
  frame_decoder decoder(limits);
  size_t consumed = 0;
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    if (!decoder.feed(bytes.substr(at, chunk)))
      return 0;
    while (true) {
      auto f = decoder.next();
      if (!f || !*f)
        break;
      const std::string again = encode(**f);
      if (bytes.substr(consumed, again.size()) != again)
        std::abort();  // a frame that does not re-encode to its own bytes
      consumed += again.size();
      if (const auto* d = std::get_if<data_block>(&(*f)->body))
        if (d->offset + d->data.size() > limits.size_bytes)
          std::abort();
      if (const auto* e = std::get_if<extent>(&(*f)->body))
        if (e->offset + e->length > limits.size_bytes || e->length == 0)
          std::abort();
      if (const auto* v = std::get_if<digest>(&(*f)->body))
        if (v->offset + v->length > limits.size_bytes || v->length == 0 ||
            v->length > verify_bytes_max)
          std::abort();
    }
  }
  return 0;
}
