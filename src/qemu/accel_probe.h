// Whether KVM works on this node, and which accelerator a VM gets.
//
// /dev/kvm can exist and still not run a guest (a nested or paravirtual KVM:
// QEMU aborts setting an MSR, or the vCPU stops with "KVM internal error"
// on an instruction the hypervisor cannot emulate). So "auto" is decided by a
// short probe boot under -accel kvm of a firmware image generated here
// (accel_probe_payload.h), and the verdict is cached in a file keyed by the
// kernel release and the QEMU version: a new kernel or QEMU probes again.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::qemu {

// What the probe found (also the content of the cache file).
struct accel_probe_result {
  bool kvm_present = false;    // the KVM device exists
  bool kvm_usable = false;     // the probe guest ran to its end under -accel kvm
  std::string reason;          // why KVM is not usable, for a person; empty when usable
  std::string kernel_release;  // `uname -r` when probed
  std::string qemu_version;    // first line of `qemu-system-x86_64 --version`
  std::int64_t probe_duration_ms = 0;
};

struct acceleration_choice {
  std::string acceleration;  // "kvm" or "tcg": what goes on QEMU's command line
  std::string warning;       // set when "auto" could not use KVM: log it, show it to the user
};

// Pure. `requested` is a VM's acceleration: kvm | tcg | auto.
// auto: kvm when usable, else tcg with a warning. kvm: kvm when usable, else an
// error (errc::conflict, field "acceleration") saying why, never a fallback.
// tcg: tcg, whatever the probe says. Anything else: errc::invalid_input.
result<acceleration_choice> resolve_acceleration(std::string_view requested,
                                                 const accel_probe_result& probe);

struct accel_probe_options {
  std::string qemu_binary = "qemu-system-x86_64";
  std::string kvm_device = "/dev/kvm";
  // The cache; the payload is written beside it for the duration of the probe.
  std::string cache_file = "/run/vcube/accel-probe.json";
  // The -cpu the VMs get under KVM (command_line.cc): the probe uses the same.
  std::string cpu_model = "host";
  // The probe takes about 0.1 s where KVM works; a hang is a failure too.
  std::chrono::milliseconds deadline{5000};
};

// Blocking; call it off the event loop. Without the KVM device: not present,
// no probe. Otherwise the cached result when it matches this kernel and QEMU,
// else a probe (up to options.deadline plus QEMU's start) whose result is
// cached. Probes are serialised within the process, so concurrent VM starts
// probe once. An error only when QEMU cannot be run at all or the payload
// cannot be written.
result<accel_probe_result> probe_acceleration(const accel_probe_options& options = {});

// The call for a VM start: "tcg" needs no probe; otherwise probe_acceleration
// then resolve_acceleration. Blocking like probe_acceleration.
result<acceleration_choice> choose_acceleration(std::string_view requested,
                                                const accel_probe_options& options = {});

}  // namespace vcube::qemu
