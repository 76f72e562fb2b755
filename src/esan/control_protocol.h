// The control protocol between vcubed and vcube-esand (docs/esan.md,
// "Control socket"): one JSON object per line each way, requests answered in
// order. Pure: parse_request turns a line into a typed command (or an error
// naming the field), and the reply_* and *_json functions build the answers.
// The socket shell is control_server.h; the commands are carried out by
// volume_manager.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "esan/esand_config.h"
#include "esan/remote_backend.h"

namespace vcube::esan::control {

inline constexpr size_t line_bytes_max = 64 * 1024;  // a longer request closes the connection
inline constexpr size_t volume_name_bytes_max = 64;
inline constexpr uint64_t volume_bytes_max = 64ULL << 40;  // 64 TiB
inline constexpr uint64_t volume_bytes_align = 4096;
inline constexpr uint32_t region_bytes_default = 65536;
inline constexpr size_t path_bytes_max = 4096;
inline constexpr size_t first_differences_max = 16;
inline constexpr size_t remote_servers_max = 2;

struct create_command {
  std::string name;
  std::string data_path;
  std::string meta_path;
  uint64_t size_bytes = 0;
  uint64_t generation = 0;  // 0: inconsistent until its initial sync
  bool is_primary = false;
  uint32_t region_bytes = region_bytes_default;
};

// Also one entry of the --state file.
struct attach_command {
  mirror_config volume;  // name, data, meta, listen or peer
  uint64_t rate_bytes_per_s = 0;
  bool is_fencing = false;  // a primary without its peer holds writes (mirror::set_fencing)
  friend bool same_volume(const attach_command& a, const attach_command& b);
};

// A diskless node's volume: served here, stored on the servers (the disk's
// nodes; remote_backend.h). Also one entry of the --state file's "remotes".
struct attach_remote_command {
  remote_config remote;
};

struct detach_command {
  std::string name;
  bool is_forced = false;
};
struct delete_command {
  std::string name;
  std::string data_path;
  std::string meta_path;
};
struct promote_command {
  std::string name;
  bool allow_two_primaries = false;
};
struct demote_command {
  std::string name;
};
struct status_command {
  std::optional<std::string> name;  // all volumes when absent
};
struct rate_command {
  std::string name;
  uint64_t rate_bytes_per_s = 0;
};
struct resize_command {
  std::string name;
  uint64_t size_bytes = 0;
};
struct verify_command {
  std::string name;
};
struct outdate_peer_command {
  std::string name;  // the cluster marked the peer outdated (mirror::outdate_peer)
};
struct resolve_command {
  std::string name;  // discard this side's data (the only resolution so far)
};

using command =
    std::variant<create_command, attach_command, attach_remote_command, detach_command,
                 delete_command, promote_command, demote_command, status_command, rate_command,
                 resize_command, verify_command, resolve_command, outdate_peer_command>;

// A request line (without its newline). Errors are invalid_input naming the field.
result<command> parse_request(std::string_view line);
// The fields of an attach (without "op"): the request, and a --state entry.
result<attach_command> parse_attach(const json& j);
json attach_json(const attach_command& a);

// The fields of an attach_remote (without "op"), as in the request.
result<attach_remote_command> parse_attach_remote(const json& j);
json attach_remote_json(const attach_remote_command& a);

// The --state file: {"volumes": [attach fields, ...], "remotes": [attach_remote fields, ...]}.
struct saved_state {
  std::vector<attach_command> volumes;
  std::vector<attach_remote_command> remotes;
};
result<saved_state> parse_state(std::string_view text);
std::string state_text(const saved_state& state);

// "invalid_input", "not_found", "conflict", "unavailable" or "io".
const char* reply_code(errc code);
// One reply line each, newline included.
std::string reply_ok(json fields = json::object());
std::string reply_error(const error& e);

struct verify_status {
  std::string state = "idle";  // idle | running | done | failed
  int percent = 0;
  uint64_t differing_regions = 0;
  uint64_t differing_bytes = 0;
  std::vector<uint64_t> first_differences;  // offsets, at most first_differences_max
  std::string message;                      // why it failed
};

struct volume_status {
  std::string name;
  uint64_t size_bytes = 0;
  std::string role;       // primary | secondary
  std::string peer_role;  // primary | secondary | unknown
  bool is_connected = false;
  std::string disk_state;
  std::string peer_disk_state;
  int percent = 100;
  uint64_t out_of_sync_bytes = 0;
  uint64_t resynced_bytes = 0;
  uint64_t rate_bytes_per_s = 0;
  std::string message;
  uint64_t nbd_clients = 0;
  uint64_t generation = 0;
  bool is_fencing = false;
  bool is_suspended = false;  // writes held until the peer is outdated or back
  verify_status verify;
};

json status_json(const volume_status& s);

// A remote volume in the status reply's "remotes".
json remote_status_json(const remote_config& c, const remote_status& s, uint64_t nbd_clients);

}  // namespace vcube::esan::control
