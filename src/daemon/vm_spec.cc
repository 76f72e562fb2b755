#include "daemon/vm_spec.h"

#include <openssl/sha.h>

#include "domain/schema.h"

namespace vcube::daemon {
namespace {

std::string image_path(const vm_host_paths& paths, const std::string& image) {
  return paths.images_dir + "/" + image;
}

std::vector<qemu::disk_definition> disks_of(const json& vm, const vm_host_paths& paths) {
  std::vector<qemu::disk_definition> out;
  for (const auto& d : vm.value("disks", json::array())) {
    qemu::disk_definition disk;
    if (d.contains("esan")) {
      // esan disk names are plain names: nothing in them needs escaping.
      disk.source =
          "nbd+unix:///" + d.at("esan").get<std::string>() + "?socket=" + paths.esan_socket;
      disk.nbd_reconnect_delay_s = esan_reconnect_delay_s;
    } else {
      disk.source = image_path(paths, d.at("image").get<std::string>());
    }
    disk.format = d.value("format", "raw");
    disk.bus = d.value("bus", "virtio-blk");
    disk.cache = d.value("cache", "none");
    disk.is_readonly = d.value("readonly", false);
    out.push_back(std::move(disk));
  }
  return out;
}

}  // namespace

std::string vm_run_dir(const vm_host_paths& paths, const std::string& name) {
  return paths.runs_dir + "/" + name;
}

std::string vm_uuid(const std::string& cluster, const std::string& name) {
  std::string key = "vcube-vm\n" + cluster + "\n" + name;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  digest[6] = (digest[6] & 0x0f) | 0x50;  // version 5-like: name-based
  digest[8] = (digest[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out.push_back('-');
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0x0f]);
  }
  return out;
}

result<qemu::vm_definition> make_vm_definition(const std::string& name, const json& vm,
                                               const vm_host_paths& paths,
                                               const vm_start_inputs& inputs) {
  if (auto s = domain::validate_object("vm", name, vm); !s)
    return s.err();
  const json nics = vm.value("nics", json::array());
  if (nics.size() != inputs.taps.size())
    return make_error(errc::invalid_input, "vm '" + name + "': " + std::to_string(nics.size()) +
                                               " NICs but " + std::to_string(inputs.taps.size()) +
                                               " tap devices");
  qemu::vm_definition d;
  d.name = name;
  d.uuid = vm_uuid(inputs.cluster, name);
  d.vcpus = vm.at("vcpus").get<int>();
  d.memory_mib = vm.at("memory_mib").get<int64_t>();
  d.machine_type = vm.value("machine", "q35");
  d.acceleration = inputs.accel;
  d.disks = disks_of(vm, paths);
  for (size_t i = 0; i < nics.size(); ++i)
    d.nics.push_back({nics[i].at("mac").get<std::string>(), inputs.taps[i],
                      nics[i].value("model", "virtio-net")});
  if (auto it = vm.find("cdrom"); it != vm.end()) {
    std::string iso = it->get<std::string>();
    d.cdrom = qemu::cdrom_definition{iso.empty() ? "" : image_path(paths, iso)};
  }
  d.boot_order = vm.value("boot_order", std::vector<std::string>{});
  if (auto it = vm.find("kernel"); it != vm.end()) {
    std::string initrd = it->value("initrd", "");
    d.kernel = qemu::kernel_boot{image_path(paths, it->at("kernel").get<std::string>()),
                                 initrd.empty() ? "" : image_path(paths, initrd),
                                 it->value("cmdline", "")};
  }
  d.run_dir = vm_run_dir(paths, name);
  if (auto s = qemu::validate(d); !s)
    return s.err();
  return d;
}

std::vector<vm_file> vm_files(const json& vm, const vm_host_paths& paths) {
  std::vector<vm_file> out;
  for (const auto& d : vm.value("disks", json::array()))
    if (d.contains("image"))
      out.push_back({image_path(paths, d.at("image").get<std::string>()),
                     d.value("size_mib", int64_t(0)), d.value("format", "raw")});
  if (std::string iso = vm.value("cdrom", ""); !iso.empty())
    out.push_back({image_path(paths, iso), 0, "raw"});
  if (auto it = vm.find("kernel"); it != vm.end()) {
    out.push_back({image_path(paths, it->at("kernel").get<std::string>()), 0, "raw"});
    if (std::string initrd = it->value("initrd", ""); !initrd.empty())
      out.push_back({image_path(paths, initrd), 0, "raw"});
  }
  return out;
}

std::vector<std::string> esan_disks_of(const json& vm) {
  std::vector<std::string> out;
  for (const auto& d : vm.value("disks", json::array()))
    if (d.is_object() && d.contains("esan") && d["esan"].is_string())
      out.push_back(d["esan"].get<std::string>());
  return out;
}

}  // namespace vcube::daemon
