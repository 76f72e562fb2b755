// nbd_uri: the two NBD URI forms a disk source may use, parsed into the parts
// QEMU's -blockdev driver=nbd takes. Pure string handling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::qemu {

inline constexpr uint16_t nbd_port_default = 10809;

struct nbd_address {
  bool is_unix = false;
  std::string host;  // tcp: a host name, IPv4 address or IPv6 address (no brackets)
  uint16_t port = nbd_port_default;
  std::string socket_path;  // unix: absolute path of the server's socket
  std::string export_name;  // may be empty (the server's default export)
};

// True when `source` starts with an NBD scheme (and must then parse).
bool is_nbd_uri(std::string_view source);

// nbd://host[:port]/export, nbd://[v6addr][:port]/export,
// nbd+unix:///export?socket=/path. Errors are invalid_input without a field;
// the caller adds it.
[[nodiscard]] result<nbd_address> parse_nbd_uri(std::string_view uri);

}  // namespace vcube::qemu
