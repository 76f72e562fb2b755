// Running other programs (corosync tools, ip, nsenter). Thin and blocking:
// callers are CLI commands and set-up paths, never the daemon's event loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vcube::env {

struct process_output {
  int exit_code = -1;  // -1 when killed by a signal or the deadline
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with `input` on stdin; kills it when
// `timeout` passes. An error only when it could not be started or timed out.
result<process_output> run(const std::vector<std::string>& argv, const std::string& input = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

struct run_limits {
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  // Per stream; output beyond it is read and dropped, so the child never blocks.
  std::size_t output_bytes_max = std::numeric_limits<std::size_t>::max();
  // The child leads a new process group and the timeout kills the whole
  // group: a helper it started (ipmitool under a fence agent) dies with it.
  bool is_process_group = false;
};

// run() with limits on time and captured output.
result<process_output> run(const std::vector<std::string>& argv, const std::string& input,
                           const run_limits& limits);

// Like run, but a non-zero exit becomes an error quoting stderr.
result<std::string> run_checked(const std::vector<std::string>& argv, const std::string& input = {},
                                std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Starts argv detached from this process (new session, stdio on /dev/null or
// `log_file`); does not wait. Returns the child's pid.
result<int> spawn_detached(const std::vector<std::string>& argv, const std::string& log_file = {});

// Whether `stat` (the text of /proc/PID/stat) is a live process — not a
// zombie or dead — running `command` (any when empty; COMM as the kernel
// keeps it, at most 15 characters).
bool is_live_stat(std::string_view stat, std::string_view command = {});
// The same for process `pid`: a pid file outlives its process, and the pid
// may be reused.
bool is_process_alive(int pid, std::string_view command = {});

}  // namespace vcube::env
