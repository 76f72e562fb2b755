#include "qemu/command_line.h"

#include "qemu/block_device_args.h"
#include "qemu/syntax.h"

namespace vcube::qemu {
namespace {

// bootindex values in boot_order's order: every disk in turn for "disk",
// every NIC for "network".
struct boot_indexes {
  std::vector<std::optional<int>> disks;
  std::optional<int> cdrom;
  std::vector<std::optional<int>> nics;
};

boot_indexes assign_boot_indexes(const vm_definition& vm) {
  boot_indexes indexes{std::vector<std::optional<int>>(vm.disks.size()), std::nullopt,
                       std::vector<std::optional<int>>(vm.nics.size())};
  int next = 1;
  for (const std::string& device : vm.boot_order) {
    if (device == "disk") {
      for (auto& index : indexes.disks)
        index = next++;
    } else if (device == "cdrom") {
      indexes.cdrom = next++;
    } else {
      for (auto& index : indexes.nics)
        index = next++;
    }
  }
  return indexes;
}

void add(std::vector<std::string>& args, std::string option, std::string value) {
  args.push_back(std::move(option));
  args.push_back(std::move(value));
}

void append_machine_args(const vm_definition& vm, std::vector<std::string>& args) {
  add(args, "-name", "guest=" + vm.name);
  add(args, "-uuid", to_lower(vm.uuid));
  add(args, "-machine", vm.machine_type + ",accel=" + vm.acceleration);
  add(args, "-cpu", vm.acceleration == "kvm" ? "host" : "max");
  add(args, "-smp", std::to_string(vm.vcpus));
  add(args, "-m", std::to_string(vm.memory_mib));
  args.push_back("-nodefaults");
  args.push_back("-no-user-config");
}

// QEMU runs detached; everything it offers goes through files in run_dir.
void append_run_args(const run_paths& paths, std::vector<std::string>& args) {
  add(args, "-display", "none");
  add(args, "-vnc", "unix:" + paths.vnc_socket);
  add(args, "-qmp", "unix:" + paths.qmp_socket + ",server=on,wait=off");
  add(args, "-serial", "file:" + paths.serial_log);
  add(args, "-pidfile", paths.pid_file);
  args.push_back("-daemonize");
  // -nodefaults removes the graphics card; VNC needs one to show anything.
  add(args, "-device", "VGA,id=video0");
}

void append_kernel_args(const kernel_boot& kernel, std::vector<std::string>& args) {
  add(args, "-kernel", kernel.kernel_path);
  if (!kernel.initrd_path.empty())
    add(args, "-initrd", kernel.initrd_path);
  if (!kernel.cmdline.empty())
    add(args, "-append", kernel.cmdline);
}

void append_block_args(const vm_definition& vm, const boot_indexes& boot,
                       std::vector<std::string>& args) {
  size_t scsi_count = 0;
  for (size_t i = 0; i < vm.disks.size(); ++i) {
    const bool is_scsi = vm.disks[i].bus == "virtio-scsi";
    if (is_scsi && scsi_count == 0)
      append_scsi_controller_args(args);
    append_disk_args(vm.disks[i], i, is_scsi ? scsi_count++ : 0, boot.disks[i], args);
  }
  if (vm.cdrom)
    append_cdrom_args(*vm.cdrom, boot.cdrom, args);
}

void append_nic_args(const vm_definition& vm, const boot_indexes& boot,
                     std::vector<std::string>& args) {
  for (size_t i = 0; i < vm.nics.size(); ++i) {
    const std::string id = nic_device_id(i);
    add(args, "-netdev",
        "tap,id=" + id + "-tap,ifname=" + vm.nics[i].tap_ifname + ",script=no,downscript=no");
    std::string device =
        "virtio-net-pci,id=" + id + ",netdev=" + id + "-tap,mac=" + to_lower(vm.nics[i].mac);
    if (boot.nics[i])
      device += ",bootindex=" + std::to_string(*boot.nics[i]);
    add(args, "-device", device);
  }
}

}  // namespace

run_paths run_paths_in(std::string_view run_dir) {
  std::string base(run_dir);
  if (base.size() > 1 && base.ends_with('/'))
    base.pop_back();
  return {base + "/qmp.sock", base + "/vnc.sock", base + "/serial.log", base + "/qemu.pid"};
}

std::string disk_device_id(size_t index) {
  return "disk" + std::to_string(index);
}

std::string nic_device_id(size_t index) {
  return "net" + std::to_string(index);
}

result<std::vector<std::string>> build_command_line(const vm_definition& vm,
                                                    const command_line_options& options) {
  if (auto valid = validate(vm); !valid)
    return valid.err();
  const boot_indexes boot = assign_boot_indexes(vm);
  std::vector<std::string> args{options.binary};
  append_machine_args(vm, args);
  append_run_args(run_paths_in(vm.run_dir), args);
  if (vm.kernel)
    append_kernel_args(*vm.kernel, args);
  append_block_args(vm, boot, args);
  append_nic_args(vm, boot, args);
  return args;
}

}  // namespace vcube::qemu
