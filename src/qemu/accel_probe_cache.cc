#include "qemu/accel_probe_cache.h"

#include <filesystem>

#include "env/files.h"

namespace vcube::qemu {

json accel_probe_to_json(const accel_probe_result& probe) {
  return json{{"version", accel_probe_version},
              {"kvm_present", probe.kvm_present},
              {"kvm_usable", probe.kvm_usable},
              {"reason", probe.reason},
              {"kernel_release", probe.kernel_release},
              {"qemu_version", probe.qemu_version},
              {"probe_duration_ms", probe.probe_duration_ms}};
}

result<accel_probe_result> accel_probe_from_json(const json& j) {
  try {
    if (j.at("version").get<int>() != accel_probe_version)
      return make_error(errc::invalid_input, "probe cache from another probe version", "version");
    accel_probe_result probe;
    probe.kvm_present = j.at("kvm_present").get<bool>();
    probe.kvm_usable = j.at("kvm_usable").get<bool>();
    probe.reason = j.at("reason").get<std::string>();
    probe.kernel_release = j.at("kernel_release").get<std::string>();
    probe.qemu_version = j.at("qemu_version").get<std::string>();
    probe.probe_duration_ms = j.at("probe_duration_ms").get<std::int64_t>();
    return probe;
  } catch (const json::exception& e) {
    return make_error(errc::invalid_input, std::string("not a probe cache: ") + e.what());
  }
}

bool is_accel_probe_current(const accel_probe_result& cached, std::string_view kernel_release,
                            std::string_view qemu_version) {
  return cached.kvm_present && cached.kernel_release == kernel_release &&
         cached.qemu_version == qemu_version;
}

result<accel_probe_result> read_accel_probe_cache(const std::string& path) {
  if (!env::file_exists(path))
    return make_error(errc::not_found, "no probe cache at " + path);
  auto text = env::read_file(path);
  if (!text)
    return text.err();
  auto j = parse_json(*text);
  if (!j)
    return make_error(errc::invalid_input, path + ": " + j.err().message);
  return accel_probe_from_json(*j);
}

status write_accel_probe_cache(const std::string& path, const accel_probe_result& probe) {
  auto dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) {
    if (auto made = env::make_directories(dir); !made)
      return made;
  }
  return env::write_file_atomic(path, accel_probe_to_json(probe).dump(2) + "\n");
}

}  // namespace vcube::qemu
