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

// esand's NBD port on the cluster network, for nodes without a copy.
inline constexpr uint16_t esan_nbd_port = 10809;

struct esan_paths {
  std::string dir = "/var/lib/vcube/esan";  // <disk>.img and <disk>.meta
  std::string control = "/run/vcube/esand.sock";
  std::string nbd_socket = "/run/vcube/esand-nbd.sock";
  std::string state = "/var/lib/vcube/esan/volumes.json";
  std::string log = "/var/log/vcube/esand.log";
  std::string images_dir = "/var/lib/vcube/images";  // where an import's image is
  std::string key = "/var/lib/vcube/esan/link.key";  // esand's --secret-file
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

// The entry named `name` of a list from esand's status ("volumes" or
// "remotes"), or null.
const json* find_volume(const json& volumes, const std::string& name);

std::string esan_data_path(const esan_paths& paths, const std::string& disk);
std::string esan_meta_path(const esan_paths& paths, const std::string& disk);
std::string esan_status_name(const std::string& disk, const std::string& node);
// Whether `node` holds a copy of the disk (an esan_disk value).
bool is_disk_node(const json& disk, const std::string& node);
// ADDR:PORT where `node`'s esand serves NBD to nodes without a copy ("" when
// the node has no address).
std::string esan_nbd_listen(const domain::store& store, const std::string& node);

// The disks of `node` (those listing it in `nodes`), by the domain.
std::vector<esan_volume> wanted_volumes(const domain::store& store, const std::string& node,
                                        const esan_paths& paths);

// A disk this node runs a VM on without holding a copy: esand serves it
// here from whichever of the disk's nodes is primary (diskless attach).
struct esan_remote {
  std::string name;
  uint64_t size_bytes = 0;
  std::vector<std::string> servers;  // ADDR:PORT of esand on the disk's nodes
};

// The remote volumes of `node`: the disks of `in_use` (those of the VMs
// running or starting here) that have no copy on it.
std::vector<esan_remote> wanted_remotes(const domain::store& store, const std::string& node,
                                        const std::set<std::string>& in_use);

// Fencing (docs/esan.md, "Fencing"). Whether the disk (an esan_disk
// value) marks `node`'s copy outdated: the other side wrote without it, so
// it may not be promoted (or serve, or be placed on) until it has resynced.
bool is_copy_outdated(const json& disk, const std::string& node);

// Whether `node`'s side of `disk` may take the domain's word that its peer
// is outdated and acknowledge writes without it: the disk marks the peer,
// and no partition can undo the mark — the cluster has 3+ nodes (a
// majority wrote it), or the peer is a member, or its fence is confirmed
// (in a two-node split both sides are quorate).
bool may_rely_on_outdated_peer(const domain::store& store, const std::string& disk,
                               const std::string& node, const std::set<std::string>& members);

// The esan_disk value with `outdated` brought up to date from `node`'s side
// (`volume`: its entry in esand's status, null when not attached), or null
// when nothing changes:
// - a suspended primary (unless marked itself) marks its peer, or asserts
//   the mark again (`outdated_at`): esand is told only after such a write of
//   its own has committed, so a clear racing with it (both based on the same
//   version) cannot be applied after the mark was relied on;
// - the marked node clears its mark once connected and UpToDate again.
json esan_outdated_update(const json& disk, const std::string& node, const json& volume,
                          int64_t now_ms);

// Which of the disk's nodes is primary for a VM that runs on a node without
// a copy; "" when no such VM exists, or no node may take it yet. Every node
// decides the same from the same domain:
//  1. a member that is primary and has NBD clients (the one serving now);
//  2. else a member that is primary with a usable copy;
//  3. else the first member with a usable copy, once the other node is a
//     member too (its esand refuses a second primary while connected) or
//     its fence is confirmed (it may have been serving: it must be off).
// Usable: not Inconsistent, SyncTarget or SplitBrain, and not outdated.
std::string esan_serving_node(const domain::store& store, const std::string& disk,
                              const std::set<std::string>& members);

// The control requests that attach the remote volumes of `wanted` that are
// missing from `remotes` (the "remotes" array of esand's status) and detach
// those no longer wanted; one attached with another size or servers is
// attached again once no NBD client (QEMU) holds it.
std::vector<json> esan_remote_requests(const std::vector<esan_remote>& wanted, const json& remotes);

// What the agent knows besides esand's status.
struct esan_local {
  std::set<std::string> created;                // disks whose metadata file exists on this node
  std::set<std::string> in_use;                 // disks a local VM runs on or is starting on
  std::set<std::string> serving;                // disks this node serves to a diskless node
  std::map<std::string, int64_t> verify_done;   // disk → verify_request last acted on
  std::map<std::string, int64_t> resolve_done;  // disk → resolve.at last acted on
};

// The control requests, in order, that bring esand from `volumes` (the
// "volumes" array of its status reply) to `wanted`: create missing volumes,
// attach them (fencing on), follow rate and size, promote the disks this
// node serves to a diskless node, demote a primary nobody uses, start a
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
