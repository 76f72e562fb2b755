// corosync_service: a thin shell over corosync's files and tools, for the CLI
// and the daemon's set-up paths. Blocking (it runs programs and waits for
// them): never call it on an event loop thread.
#pragma once

#include <chrono>
#include <string>

#include "common/error.h"

namespace vcube::cluster {

inline constexpr size_t corosync_authkey_bytes = 256;

// Writes /etc/corosync/corosync.conf (0644) and /etc/corosync/authkey (0400),
// each atomically, creating /etc/corosync and /var/log/corosync if needed.
// The key is written first, so a config never refers to a missing key.
status write_corosync_files(const std::string& conf_text, const std::string& authkey_bytes);

// corosync_authkey_bytes random bytes from the kernel (getrandom). Aborts if
// the kernel cannot provide them: there is no safe fallback for a key.
std::string generate_authkey();

// True when `corosync-cfgtool -s` succeeds, i.e. corosync runs and answers.
bool is_corosync_running();

// Ok if corosync already runs; otherwise runs `corosync` (it daemonizes)
// and waits until it answers, or fails with errc::timeout after `deadline`.
status start_corosync(std::chrono::milliseconds deadline);

// Makes a running corosync re-read corosync.conf (corosync-cfgtool -R).
status reload_corosync();

// Asks corosync to shut down (corosync-cfgtool -H --force) and waits until it
// no longer answers; errc::timeout after `deadline`. Ok if it was not running.
status stop_corosync(std::chrono::milliseconds deadline);

}  // namespace vcube::cluster
