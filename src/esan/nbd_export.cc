#include "esan/nbd_export.h"

#include <bit>

#include "esan/nbd_protocol.h"

namespace vcube::esan::nbd {

status validate(const export_description& d) {
  if (d.name.size() > 4096)
    return make_error(errc::invalid_input, "an export name is at most 4096 bytes", "name");
  const uint32_t min = d.block_size_min_bytes;
  if (!std::has_single_bit(min) || min > block_size_max_limit_bytes)
    return make_error(errc::invalid_input,
                      "the minimum block size must be a power of two between 1 and 65536 bytes",
                      "block_size_min_bytes");
  if (d.size_bytes % min != 0)
    return make_error(errc::invalid_input,
                      "the export size must be a multiple of the minimum block size (" +
                          std::to_string(min) + " bytes)",
                      "size_bytes");
  const uint32_t pref = d.block_size_preferred_bytes;
  if (!std::has_single_bit(pref) || pref < min)
    return make_error(errc::invalid_input,
                      "the preferred block size must be a power of two, at least the minimum",
                      "block_size_preferred_bytes");
  if (d.payload_bytes_max < pref || d.payload_bytes_max % min != 0)
    return make_error(errc::invalid_input,
                      "the maximum payload must be a multiple of the minimum block size and at "
                      "least the preferred block size",
                      "payload_bytes_max");
  return ok_status();
}

uint16_t transmission_flags_for(const export_description& d, bool has_structured_replies) {
  // The backend keeps no cache of its own, so FLUSH and FUA on one connection
  // cover writes completed on every connection: multi-conn is safe.
  uint16_t flags = flag_has_flags | flag_send_flush | flag_send_fua | flag_can_multi_conn;
  if (d.is_read_only)
    flags |= flag_read_only;
  else
    flags |= flag_send_trim | flag_send_write_zeroes;
  if (has_structured_replies)
    flags |= flag_send_df;  // every read is answered with a single data chunk
  return flags;
}

}  // namespace vcube::esan::nbd
