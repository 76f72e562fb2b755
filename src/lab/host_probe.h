// Looking at (and tearing down) what exists on the host, found by name and by
// namespace identity rather than from a state file, so it also works after a
// crash of the lab itself. Blocking; for the CLI only.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace vcube::lab {

// Network namespaces in /run/netns whose name starts with "vcube-lab-".
std::vector<std::string> list_lab_netns();
// Links of the host namespace whose name starts with "vcube-lab" (bridge, veths).
std::vector<std::string> list_lab_links();
// Whether the link exists / is administratively up (IFF_UP).
bool link_exists(const std::string& name);
bool is_link_up(const std::string& name);

// Pids of every process whose `kind` namespace ("net", "mnt") is the one
// bind-mounted at `nsfs_path` (what `ip netns pids` does for "net").
std::vector<int> pids_in_namespace(const std::string& nsfs_path, const std::string& kind);
// The command name of a process ("corosync"), or "?" when it is gone.
std::string process_name(int pid);

// SIGKILLs every process in the namespaces bound at `nsfs_paths`, again and
// again (a dying process may still fork), until none is left or `deadline`.
status kill_namespace_processes(const std::vector<std::string>& nsfs_paths,
                                std::chrono::milliseconds deadline);

// Mount points from /proc/self/mountinfo text (pure), octal escapes decoded.
std::vector<std::string> parse_mount_points(const std::string& mountinfo);
// Mount points at or below `dir` in this mount namespace, deepest first.
std::vector<std::string> mounts_under(const std::string& dir);
bool is_mount_point(const std::string& path);
// umount, falling back to a lazy (detaching) unmount when busy.
status unmount(const std::string& path);

}  // namespace vcube::lab
