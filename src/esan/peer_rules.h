// The rules a volume applies when its peer connects and when it is asked to
// change role (docs/esan.md, "Peer rules"). Pure: the data plane supplies
// its metadata and what the peer said in its hello, and acts on the verdict.
#pragma once

#include <string>

#include "esan/generations.h"
#include "esan/repl_protocol.h"
#include "esan/volume_meta.h"

namespace vcube::esan {

enum class connect_action {
  established,    // same data: replicate from now on
  resync_source,  // send regions (bitmap or all, see `is_full`)
  resync_target,  // receive regions; inconsistent until done
  refuse,         // close the connection; `reason` says why (status and alert)
};

struct connect_verdict {
  connect_action action = connect_action::refuse;
  bool is_full = false;         // a resync copies every region
  bool is_split_brain = false;  // refused because both sides wrote apart
  std::string reason;
};

// What a side with this metadata says in its hello.
repl::hello hello_of(const std::string& volume, const volume_meta& meta);

// Which sides recover from a crash while primary (activity_log.h): the
// extents in their activity log may differ between the sides.
struct crash_recovery {
  bool is_self = false;
  bool is_peer = false;
};

// `self`: this side's metadata and volume name; `peer`: its hello.
connect_verdict on_peer_hello(const std::string& volume, const volume_meta& self,
                              const repl::hello& peer, crash_recovery recovering = {});

struct role_request {
  bool is_connected = false;         // the peer is connected now
  bool is_peer_primary = false;      // and primary
  bool allow_two_primaries = false;  // the hand-over of a live migration
  bool is_resync_target = false;     // a resync into this side runs
};

// Whether this side may become primary; ok or conflict with the reason.
status can_promote(const volume_meta& self, const role_request& request);

}  // namespace vcube::esan
