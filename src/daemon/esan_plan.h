// esan_plan: what this node's vcube-esand should hold, from the domain's eSAN
// disks (docs/esan.md, "In the cluster"), and the control requests that get
// it there. Pure: esan_agent does the I/O.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/json.h"
#include "domain/store.h"

namespace vcube::daemon {

struct esan_paths {
  std::string dir = "/var/lib/vcube/esan";  // <disk>.img and <disk>.meta
  std::string control = "/run/vcube/esand.sock";
  std::string nbd_socket = "/run/vcube/esand-nbd.sock";
  std::string state = "/var/lib/vcube/esan/volumes.json";
  std::string log = "/var/log/vcube/esand.log";
  std::string images_dir = "/var/lib/vcube/images";  // where an import's image is
};

// One disk of this node, as esand should have it attached.
struct esan_volume {
  std::string name;
  std::string data;
  std::string meta;
  uint64_t size_bytes = 0;
  uint64_t generation = 0;
  std::string listen;          // ADDR:PORT this side listens on (the first node), or ""
  std::string peer;            // ADDR:PORT this side dials (the second node), or ""
  uint64_t rate = 0;           // resync bytes per second, 0: unlimited
  int64_t verify_request = 0;  // run a verify when newer than the last one done (first node)
  int64_t resolve_at = 0;      // discard this side's data when newer than the last resolve
  // A disk created from an image: on the first node, the image (absolute)
  // and its format, copied into the data file before the volume is created;
  // the second node starts with generation 0 and receives a full sync.
  std::string import_image;
  std::string import_format;
};

std::string esan_data_path(const esan_paths& paths, const std::string& disk);
std::string esan_meta_path(const esan_paths& paths, const std::string& disk);
std::string esan_status_name(const std::string& disk, const std::string& node);

// The disks of `node` (those listing it in `nodes`), by the domain.
std::vector<esan_volume> wanted_volumes(const domain::store& store, const std::string& node,
                                        const esan_paths& paths);

// What the agent knows besides esand's status.
struct esan_local {
  std::set<std::string> created;                // disks whose metadata file exists on this node
  std::set<std::string> in_use;                 // disks a local VM runs on or is starting on
  std::map<std::string, int64_t> verify_done;   // disk → verify_request last acted on
  std::map<std::string, int64_t> resolve_done;  // disk → resolve.at last acted on
};

// The control requests, in order, that bring esand from `volumes` (the
// "volumes" array of its status reply) to `wanted`: create missing volumes,
// attach them, follow rate and size, demote a primary nobody uses, start a
// requested verify or split-brain resolution, detach and delete the volumes of
// disks that are gone.
std::vector<json> esan_requests(const std::vector<esan_volume>& wanted, const json& volumes,
                                const esan_local& local, const esan_paths& paths);

// The esan_status value for `disk` on `node` from its entry in esand's
// status (null: not attached).
json esan_status_value(const std::string& disk, const std::string& node, const json& volume,
                       int64_t verify_done, int64_t resolve_done, int64_t now_s);

// The alert a new status raises ({severity, subject, text}), or null: a disk
// that enters split brain (`old`: the previous status, null if none).
json esan_alert(const json& old, const json& now, int64_t now_ms);

// Whether a new status is worth a domain write: anything but the byte
// counters and the time changed, or the counters changed and `old` is
// older than 30 s.
bool esan_status_worth_writing(const json& old, const json& now);

}  // namespace vcube::daemon
