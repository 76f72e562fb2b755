// cmap_nodelist: reads corosync's nodelist (nodelist.node.N.nodeid, .name,
// .ring0_addr) from cmap, to give CPG member ids their names and addresses.
#pragma once

#include <corosync/cmap.h>

#include <cstdint>
#include <map>

#include "cluster/corosync_link.h"
#include "common/error.h"

namespace vcube::cluster {

inline constexpr size_t cmap_nodelist_keys_max = 4096;

// Every node in cmap's nodelist, by node id. A node without a name or address
// gets "" for it. Blocking IPC to the local corosync (fast, local).
result<std::map<uint32_t, member>> read_cmap_nodelist(cmap_handle_t handle);

}  // namespace vcube::cluster
