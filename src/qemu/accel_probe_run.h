// One run of the probe guest under QEMU, and what it says about KVM.
// Internal to accel_probe.cc; separate so the verdict can be tested without QEMU.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace vcube::qemu {

struct accel_probe_run {
  int exit_code = -1;           // QEMU's exit status; -1 when it did not exit by itself
  int term_signal = 0;          // the signal that ended QEMU (not our kill), e.g. SIGABRT
  bool timed_out = false;       // still running at the deadline: killed
  bool internal_error = false;  // QEMU reported "KVM internal error": killed (it stays up)
  std::string serial;           // the guest's COM1 output
  std::string stderr_text;      // QEMU's stderr, at most stderr_bytes_max
  std::int64_t duration_ms = 0;
};

inline constexpr std::size_t stderr_bytes_max = 64 * 1024;
inline constexpr std::size_t serial_bytes_max = 4 * 1024;

// QEMU's command line for the probe: `accelerator` kvm (or tcg, to test the payload).
std::vector<std::string> accel_probe_command(const std::string& qemu_binary,
                                             const std::string& accelerator,
                                             const std::string& cpu_model,
                                             const std::string& payload_path);

// Runs the command with stdin on /dev/null, collects serial (stdout) and
// stderr, and kills QEMU (by its pid) at the deadline or as soon as it reports
// a KVM internal error. An error only when QEMU could not be started.
result<accel_probe_run> run_accel_probe_guest(const std::vector<std::string>& argv,
                                              std::chrono::milliseconds deadline);

// Pure: empty when the run proves KVM works, else the reason it does not,
// naming the step the guest did not finish and QEMU's own words.
std::string accel_probe_failure(const accel_probe_run& run, std::chrono::milliseconds deadline);

}  // namespace vcube::qemu
