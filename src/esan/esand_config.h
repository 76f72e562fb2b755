// What vcube-esand serves and where, from a small JSON file and/or flags:
//   {"exports": [{"name": "vm1-disk0", "path": "/var/lib/vcube/esan/vm1-disk0.img",
//                 "read_only": false}],
//    "unix": ["/run/vcube/esand-nbd.sock"], "tcp": ["0.0.0.0:10809"]}
// With --control, volumes are attached at runtime instead (control_protocol.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vcube::esan {

struct export_config {
  std::string name;
  std::string path;
  bool is_read_only = false;
};

struct tcp_endpoint {
  std::string address;
  uint16_t port = 0;
};

// A mirrored volume (mirror.h): served like an export, replicated to the
// peer esand. Exactly one side listens for the peer, the other dials it.
struct mirror_config {
  std::string name;
  std::string data_path;
  std::string meta_path;
  std::optional<tcp_endpoint> listen;
  std::optional<tcp_endpoint> peer;
};

struct esand_config {
  std::vector<export_config> exports;
  std::vector<mirror_config> mirrors;
  std::vector<std::string> unix_paths;
  std::vector<tcp_endpoint> tcp_endpoints;
  std::string control_path;  // the control socket (volumes come and go through it)
  std::string state_path;    // the attached volumes, restored at startup
  // The cluster's eSAN key (--secret-file, never in the JSON file): TCP
  // clients must prove it, remote volumes prove it (link_auth.h). Empty:
  // TCP is open, for tests and tools on a trusted host.
  std::string auth_key;
};

// Parses the JSON form; unknown fields are errors naming the field.
result<esand_config> parse_config_json(std::string_view text);
// "name=path" (the --export flag).
result<export_config> parse_export_flag(std::string_view text, bool is_read_only);
// "address:port" or "[v6address]:port" (the --tcp flag).
result<tcp_endpoint> parse_tcp_endpoint(std::string_view text);
// "name=N,data=PATH,meta=PATH,listen=ADDR:PORT" or "...,peer=ADDR:PORT" (the --mirror flag).
result<mirror_config> parse_mirror_flag(std::string_view text);
// At least one export or mirror (or a control socket) and one listener; names unique, non-empty,
// <= 4096 bytes; a mirror listens or dials, not both.
status validate(const esand_config& c);

}  // namespace vcube::esan
