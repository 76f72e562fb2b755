// The volumes vcubed attached through the control socket (docs/esan.md,
// "Control socket"): carries out the typed commands of control_protocol.h
// on mirrors, their peer links and the NBD server's exports, and keeps the
// --state file. Thin: the decisions are in mirror and peer_rules.
//
// Thread-safe: one mutex serialises every command, so requests from several
// control clients never interleave. Commands may block (opening files,
// stopping a peer link); they never run on the NBD server's thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "esan/control_protocol.h"
#include "esan/mirror.h"
#include "esan/nbd_server.h"
#include "esan/peer_link.h"
#include "esan/remote_backend.h"

namespace vcube::esan {

class volume_manager {
 public:
  // `server` must outlive the manager. `state_path` may be empty (nothing
  // persisted). Remote volumes prove `auth_key` to their servers.
  volume_manager(nbd_server& server, std::string state_path, std::string auth_key = "");
  ~volume_manager();  // stops every peer link
  volume_manager(const volume_manager&) = delete;
  volume_manager& operator=(const volume_manager&) = delete;

  // Attaches every volume of the state file. One that cannot be opened is
  // logged and left out (it stays in the file); the others come up.
  void restore();
  // One request line → one reply line (newline included).
  std::string handle(std::string_view line);
  // Stops every peer link (shutdown; the exports go with the server).
  void stop_all();

 private:
  struct volume {
    control::attach_command config;
    std::shared_ptr<mirror> data;
    std::unique_ptr<peer_link> link;
  };

  result<json> execute(const control::command& c);
  result<json> create(const control::create_command& c);
  result<json> attach(const control::attach_command& c, bool is_restore);
  result<json> attach_remote(const control::attach_remote_command& c, bool is_restore);
  result<json> detach_remote(const control::detach_command& c);
  status remove_export(const control::detach_command& c);
  result<json> detach(const control::detach_command& c);
  result<json> remove(const control::delete_command& c);
  result<json> report(const control::status_command& c);
  result<json> rate(const control::rate_command& c);
  result<volume*> find(const std::string& name);
  control::volume_status status_of(const std::string& name, const volume& v);
  status save_state();

  nbd_server& server_;
  const std::string state_path_;
  const std::string auth_key_;
  std::mutex mutex_;  // every field below; held for a whole command
  std::map<std::string, volume> volumes_;
  // In the state file but not openable at startup: kept there until detached.
  std::map<std::string, control::attach_command> absent_;
  // Diskless volumes: served here, stored on other nodes.
  std::map<std::string, std::shared_ptr<remote_backend>> remotes_;
};

}  // namespace vcube::esan
