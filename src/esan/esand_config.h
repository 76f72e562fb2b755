// What vcube-esand serves and where, from a small JSON file and/or flags:
//   {"exports": [{"name": "vm1-disk0", "path": "/var/lib/vcube/esan/vm1-disk0.img",
//                 "read_only": false}],
//    "unix": ["/run/vcube/esand-nbd.sock"], "tcp": ["0.0.0.0:10809"]}
// This is the interim configuration until the control socket exists.
#pragma once

#include <cstdint>
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

struct esand_config {
  std::vector<export_config> exports;
  std::vector<std::string> unix_paths;
  std::vector<tcp_endpoint> tcp_endpoints;
};

// Parses the JSON form; unknown fields are errors naming the field.
result<esand_config> parse_config_json(std::string_view text);
// "name=path" (the --export flag).
result<export_config> parse_export_flag(std::string_view text, bool is_read_only);
// "address:port" or "[v6address]:port" (the --tcp flag).
result<tcp_endpoint> parse_tcp_endpoint(std::string_view text);
// At least one export and one listener; export names unique, non-empty, <= 4096 bytes.
status validate(const esand_config& c);

}  // namespace vcube::esan
