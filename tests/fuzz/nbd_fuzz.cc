// libFuzzer target for the NBD codec: the input is split into a handshake
// part and a stream of 28-byte request headers (the first byte chooses the
// split). Nothing may crash, and a request judged executable must be in bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "esan/nbd_handshake.h"
#include "esan/nbd_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vcube::esan::nbd;
  if (size == 0)
    return 0;
  const auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  const size_t split = std::min<size_t>(bytes.size(), size_t{data[0]} * 4);
  handshake hs({export_description{"disk", 1 << 20, false, 512, 4096, 1 << 16},
                export_description{"", 4096, true, 1, 4096, 4096}});
  hs.feed(bytes.first(split));
  (void)hs.take_output();
  session s = hs.state() == handshake_state::transmission
                  ? hs.negotiated()
                  : session{export_description{"disk", 1 << 20}, (data[0] & 1) != 0, true, 0};
  for (size_t at = split; at + request_header_bytes <= bytes.size(); at += request_header_bytes) {
    const parsed_request p = parse_request(bytes.subspan(at, request_header_bytes), s);
    if (p.what != verdict::execute)
      continue;
    const uint64_t end = p.req.offset + p.req.length;
    if (end > s.exported.size_bytes || end < p.req.offset)
      std::abort();  // validation let an out-of-bounds request through
    if (p.req.offset % s.alignment_bytes() != 0)
      std::abort();
  }
  return 0;
}
