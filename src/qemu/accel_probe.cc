#include "qemu/accel_probe.h"

#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "env/files.h"
#include "env/process.h"
#include "qemu/accel_probe_cache.h"
#include "qemu/accel_probe_payload.h"
#include "qemu/accel_probe_run.h"

namespace vcube::qemu {
namespace {

constexpr std::chrono::seconds qemu_version_timeout{10};
constexpr std::string_view tcg_cost =
    "the VM runs under TCG, software emulation, many times slower";

std::string kernel_release() {
  utsname names{};
  return uname(&names) == 0 ? names.release : "unknown";
}

result<std::string> qemu_version(const std::string& qemu_binary) {
  auto out = env::run_checked({qemu_binary, "--version"}, {}, qemu_version_timeout);
  if (!out)
    return make_error(errc::unavailable, "cannot run QEMU: " + out.err().message);
  return out->substr(0, out->find('\n'));
}

std::string payload_path(const accel_probe_options& options) {
  auto dir = std::filesystem::path(options.cache_file).parent_path();
  return (dir / ("accel-probe-" + std::to_string(getpid()) + ".bin")).string();
}

// Boots the probe guest under KVM once; the result is not cached here.
result<accel_probe_result> probe_now(const accel_probe_options& options, accel_probe_result probe) {
  auto path = payload_path(options);
  auto dir = std::filesystem::path(path).parent_path().string();
  if (auto made = env::make_directories(dir); !made)
    return made.err();
  if (auto written = env::write_file_atomic(path, accel_probe_payload()); !written)
    return written.err();
  auto argv = accel_probe_command(options.qemu_binary, "kvm", options.cpu_model, path);
  auto run = run_accel_probe_guest(argv, options.deadline);
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (!run)
    return run.err();
  probe.reason = accel_probe_failure(*run, options.deadline);
  probe.kvm_usable = probe.reason.empty();
  probe.probe_duration_ms = run->duration_ms;
  return probe;
}

void log_probe(const accel_probe_result& probe) {
  if (probe.kvm_usable) {
    spdlog::info("kvm probe: KVM works ({} ms)", probe.probe_duration_ms);
  } else {
    spdlog::warn("kvm probe: KVM does not work ({} ms): {}", probe.probe_duration_ms, probe.reason);
  }
}

}  // namespace

result<acceleration_choice> resolve_acceleration(std::string_view requested,
                                                 const accel_probe_result& probe) {
  if (requested == "tcg")
    return acceleration_choice{"tcg", {}};
  if (requested != "kvm" && requested != "auto") {
    return make_error(errc::invalid_input,
                      "acceleration must be kvm, tcg or auto, not '" + std::string(requested) + "'",
                      "acceleration");
  }
  if (probe.kvm_usable)
    return acceleration_choice{"kvm", {}};
  std::string why = probe.kvm_present ? "KVM on this node does not work: " + probe.reason
                                      : "this node has no KVM (" + probe.reason + ")";
  if (requested == "auto")
    return acceleration_choice{"tcg", "acceleration auto: " + why + "; " + std::string(tcg_cost)};
  return make_error(errc::conflict,
                    "acceleration kvm was requested but " + why +
                        "; set acceleration to auto (falls back to TCG) or tcg",
                    "acceleration");
}

result<accel_probe_result> probe_acceleration(const accel_probe_options& options) {
  accel_probe_result probe;
  if (!env::file_exists(options.kvm_device)) {
    probe.reason = options.kvm_device + " is missing";
    return probe;
  }
  probe.kvm_present = true;
  probe.kernel_release = kernel_release();
  auto version = qemu_version(options.qemu_binary);
  if (!version)
    return version.err();
  probe.qemu_version = *version;
  // One probe at a time: concurrent VM starts wait for the first and read its cache.
  static std::mutex probing;
  std::lock_guard lock(probing);
  auto cached = read_accel_probe_cache(options.cache_file);
  if (cached && is_accel_probe_current(*cached, probe.kernel_release, probe.qemu_version))
    return cached;
  auto fresh = probe_now(options, std::move(probe));
  if (!fresh)
    return fresh;
  log_probe(*fresh);
  if (auto saved = write_accel_probe_cache(options.cache_file, *fresh); !saved)
    spdlog::warn("kvm probe: cannot keep the result: {}", saved.err().message);
  return fresh;
}

result<acceleration_choice> choose_acceleration(std::string_view requested,
                                                const accel_probe_options& options) {
  if (requested == "tcg")
    return acceleration_choice{"tcg", {}};
  auto probe = probe_acceleration(options);
  if (!probe)
    return probe.err();
  return resolve_acceleration(requested, *probe);
}

}  // namespace vcube::qemu
