// The file that keeps the KVM probe's verdict (/run/vcube/accel-probe.json by
// default: gone at reboot). A verdict holds only for the kernel and QEMU it
// was found with, and for the probe payload version that found it.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json.h"
#include "qemu/accel_probe.h"

namespace vcube::qemu {

// Bumped whenever accel_probe_payload.S or the probe's command line changes.
inline constexpr int accel_probe_version = 1;

json accel_probe_to_json(const accel_probe_result& probe);
// invalid_input when a field is missing or has the wrong type, or the
// version differs (a cache from another vcube is not trusted).
result<accel_probe_result> accel_probe_from_json(const json& j);

// Pure: whether `cached` was found on this kernel with this QEMU.
bool is_accel_probe_current(const accel_probe_result& cached, std::string_view kernel_release,
                            std::string_view qemu_version);

// not_found when there is no cache; invalid_input when it cannot be read as one.
result<accel_probe_result> read_accel_probe_cache(const std::string& path);
// Atomic (readers see the old or the new file); creates the directory.
status write_accel_probe_cache(const std::string& path, const accel_probe_result& probe);

}  // namespace vcube::qemu
