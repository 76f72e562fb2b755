#include "qemu/vm_definition.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "qemu/nbd_uri.h"
#include "qemu/syntax.h"

namespace vcube::qemu {
namespace {

error invalid(const std::string& field, const std::string& what) {
  return make_error(errc::invalid_input, field + ": " + what, field);
}

template <size_t n>
bool is_one_of(std::string_view value, const std::array<std::string_view, n>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

constexpr std::array<std::string_view, 2> formats = {"raw", "qcow2"};
constexpr std::array<std::string_view, 2> buses = {"virtio-blk", "virtio-scsi"};
constexpr std::array<std::string_view, 5> cache_modes = {"none", "writeback", "writethrough",
                                                         "directsync", "unsafe"};
constexpr std::array<std::string_view, 3> boot_devices = {"disk", "cdrom", "network"};

status check_path(const std::string& field, const std::string& path) {
  if (path.empty())
    return invalid(field, "is required");
  if (path.size() > path_bytes_max)
    return invalid(field, "is longer than 1024 bytes");
  if (!is_absolute_clean_path(path))
    return invalid(field, "'" + path + "' must be an absolute path without control characters");
  return ok_status();
}

status check_disk(const std::string& field, const disk_definition& disk) {
  if (is_nbd_uri(disk.source)) {
    auto address = parse_nbd_uri(disk.source);
    if (!address)
      return invalid(field + ".source", address.err().message);
  } else if (auto s = check_path(field + ".source", disk.source); !s) {
    return s;
  } else if (disk.nbd_reconnect_delay_s != 0) {
    return invalid(field + ".nbd_reconnect_delay_s", "applies to NBD sources only");
  }
  if (disk.nbd_reconnect_delay_s > 3600)
    return invalid(field + ".nbd_reconnect_delay_s", "is more than 3600 seconds");
  if (!is_one_of(disk.format, formats))
    return invalid(field + ".format", "unknown format '" + disk.format + "' (raw, qcow2)");
  if (!is_one_of(disk.bus, buses))
    return invalid(field + ".bus", "unknown bus '" + disk.bus + "' (virtio-blk, virtio-scsi)");
  if (!is_one_of(disk.cache, cache_modes))
    return invalid(field + ".cache", "unknown cache mode '" + disk.cache +
                                         "' (none, writeback, writethrough, directsync, unsafe)");
  return ok_status();
}

status check_nic(const std::string& field, const nic_definition& nic) {
  if (!is_unicast_mac(nic.mac))
    return invalid(field + ".mac", "'" + nic.mac + "' is not a unicast MAC (52:54:00:12:34:56)");
  if (!is_interface_name(nic.tap_ifname))
    return invalid(field + ".tap_ifname",
                   "'" + nic.tap_ifname + "' is not an interface name (1..15 of A-Za-z0-9._-)");
  if (nic.model != "virtio-net")
    return invalid(field + ".model", "unknown model '" + nic.model + "' (virtio-net)");
  return ok_status();
}

status check_devices(const vm_definition& vm) {
  if (vm.disks.size() > disks_max)
    return invalid("disks", "more than 16 disks");
  if (vm.nics.size() > nics_max)
    return invalid("nics", "more than 8 NICs");
  for (size_t i = 0; i < vm.disks.size(); ++i) {
    if (auto s = check_disk("disks[" + std::to_string(i) + "]", vm.disks[i]); !s)
      return s;
  }
  for (size_t i = 0; i < vm.nics.size(); ++i) {
    if (auto s = check_nic("nics[" + std::to_string(i) + "]", vm.nics[i]); !s)
      return s;
    for (size_t j = 0; j < i; ++j) {
      if (same_mac(vm.nics[j].mac, vm.nics[i].mac))
        return invalid("nics[" + std::to_string(i) + "].mac",
                       "same MAC as nics[" + std::to_string(j) + "]");
      if (vm.nics[j].tap_ifname == vm.nics[i].tap_ifname)
        return invalid("nics[" + std::to_string(i) + "].tap_ifname",
                       "same tap device as nics[" + std::to_string(j) + "]");
    }
  }
  if (vm.cdrom && !vm.cdrom->iso_path.empty())
    return check_path("cdrom.iso_path", vm.cdrom->iso_path);
  return ok_status();
}

status check_kernel(const kernel_boot& kernel) {
  if (auto s = check_path("kernel.kernel_path", kernel.kernel_path); !s)
    return s;
  if (!kernel.initrd_path.empty()) {
    if (auto s = check_path("kernel.initrd_path", kernel.initrd_path); !s)
      return s;
  }
  if (kernel.cmdline.size() > kernel_cmdline_bytes_max)
    return invalid("kernel.cmdline", "is longer than 4096 bytes");
  return ok_status();
}

bool has_boot_device(const vm_definition& vm, std::string_view device) {
  if (device == "disk")
    return !vm.disks.empty();
  if (device == "cdrom")
    return vm.cdrom.has_value();
  return !vm.nics.empty();
}

status check_boot_order(const vm_definition& vm) {
  for (size_t i = 0; i < vm.boot_order.size(); ++i) {
    const std::string field = "boot_order[" + std::to_string(i) + "]";
    const std::string& device = vm.boot_order[i];
    if (!is_one_of(device, boot_devices))
      return invalid(field, "unknown boot device '" + device + "' (disk, cdrom, network)");
    if (std::find(vm.boot_order.begin(), vm.boot_order.begin() + i, device) !=
        vm.boot_order.begin() + i)
      return invalid(field, "'" + device + "' appears twice");
    if (!has_boot_device(vm, device))
      return invalid(field, "'" + device + "' but the VM has no such device");
  }
  return ok_status();
}

status check_machine(const vm_definition& vm) {
  if (!is_vm_name(vm.name))
    return invalid("name", "'" + vm.name +
                               "' must be 1..63 of A-Za-z0-9._- starting with a "
                               "letter or digit");
  if (!is_uuid(vm.uuid))
    return invalid("uuid", "'" + vm.uuid + "' is not a UUID (8-4-4-4-12 hex digits)");
  if (vm.vcpus < vcpus_min || vm.vcpus > vcpus_max)
    return invalid("vcpus", std::to_string(vm.vcpus) + " is outside 1..64");
  if (vm.memory_mib < memory_mib_min || vm.memory_mib > memory_mib_max)
    return invalid("memory_mib", std::to_string(vm.memory_mib) + " is outside 64..1048576");
  if (!is_machine_type(vm.machine_type))
    return invalid("machine_type", "'" + vm.machine_type +
                                       "' is not a machine type (q35, pc, "
                                       "pc-q35-7.2, ...)");
  if (vm.acceleration != "kvm" && vm.acceleration != "tcg")
    return invalid("acceleration", "unknown acceleration '" + vm.acceleration + "' (kvm, tcg)");
  if (auto s = check_path("run_dir", vm.run_dir); !s)
    return s;
  if (vm.run_dir.find(',') != std::string::npos)
    return invalid("run_dir", "must not contain ',' (QEMU's socket options cannot quote it)");
  return ok_status();
}

}  // namespace

status validate(const vm_definition& vm) {
  if (auto s = check_machine(vm); !s)
    return s;
  if (auto s = check_devices(vm); !s)
    return s;
  if (vm.kernel) {
    if (auto s = check_kernel(*vm.kernel); !s)
      return s;
  }
  return check_boot_order(vm);
}

}  // namespace vcube::qemu
