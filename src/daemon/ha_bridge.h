// ha_bridge: translates between the domain and the HA core (src/ha). Pure:
// the manager shell (ha_manager.h) reads the store, calls ha::decide, and
// writes the changes these functions compute, in one write whose base
// versions make a stale manager's write fail (docs/ha.md, "In vcubed").
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "domain/store.h"
#include "domain/types.h"
#include "ha/core.h"

namespace vcube::daemon {

// What the manager knows besides the domain.
struct ha_view {
  std::string self;               // this node's name
  std::set<uint32_t> member_ids;  // the CPG membership (vcubed processes)
  int64_t now_ms = 0;             // unix ms
  std::vector<ha::fence_result> fence_results;
};

inline constexpr size_t alerts_kept_max = 200;
inline constexpr size_t fence_log_kept_max = 200;

// Nodes whose vcubed is in `member_ids`, by the node objects' ids.
std::set<std::string> member_names(const domain::store& store,
                                   const std::set<uint32_t>& member_ids);

// A node has a working fence device when a fence_device lists it and that
// device's fence_status (if any) is ok.
bool has_working_fence_device(const domain::store& store, const std::string& node);
// Whether any fence_device lists `node`, working or not.
bool has_fence_device(const domain::store& store, const std::string& node);

ha::state ha_state_from(const domain::store& store);
ha::input ha_input_from(const domain::store& store, const ha_view& view);

// The changes that persist `out` over `current` (as read from `store`):
// ha_vm / ha_fence / ha_manager puts and removes, the `node` of every VM
// whose record moved it, alert objects for raise_alert actions (the oldest
// beyond alerts_kept_max removed), and the removal of answered ha_requests.
std::vector<domain::change> ha_changes(const domain::store& store, const ha::state& current,
                                       const ha::output& out, int64_t now_ms);

// fence_log objects for attempts, the oldest beyond fence_log_kept_max removed.
// `entries` are fence_log values (validated by the domain schema).
std::vector<domain::change> fence_log_changes(const domain::store& store,
                                              const std::vector<json>& entries, int64_t now_ms);

// Object names that sort in time order: "<unix ms, 13 digits>-<seq>".
std::string time_ordered_name(int64_t now_ms, size_t seq);
// New alert objects ({severity, subject, text, at}) for `alerts`, the oldest
// beyond alerts_kept_max removed. Also for alerts raised outside the HA
// manager (eSAN split brain).
std::vector<domain::change> alert_changes(const domain::store& store,
                                          const std::vector<json>& alerts, int64_t now_ms);

}  // namespace vcube::daemon
