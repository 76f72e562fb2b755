// command_line: the argv that starts one VM as a daemonized
// qemu-system-x86_64 (QEMU 7.2 syntax, Debian 12). Pure: no files are looked
// at. The output is deterministic, and the ids below are stable so that the
// driver can address devices over QMP:
//   disk i   device "disk<i>", block nodes "disk<i>-format" over "disk<i>-storage"
//   cdrom    device "cdrom0" (on ide.0), nodes "cdrom0-format" over "cdrom0-storage"
//            when it holds a medium
//   nic i    device "net<i>", netdev "net<i>-tap"
//   virtio-scsi disks hang off one controller "scsi0"
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "qemu/vm_definition.h"

namespace vcube::qemu {

// The files QEMU creates in a VM's run directory.
struct run_paths {
  std::string qmp_socket;  // <run>/qmp.sock
  std::string vnc_socket;  // <run>/vnc.sock
  std::string serial_log;  // <run>/serial.log
  std::string pid_file;    // <run>/qemu.pid
};
run_paths run_paths_in(std::string_view run_dir);

std::string disk_device_id(size_t index);  // "disk<i>"
std::string nic_device_id(size_t index);   // "net<i>"
inline constexpr std::string_view cdrom_device_id = "cdrom0";

struct command_line_options {
  std::string binary = "qemu-system-x86_64";  // argv[0]
};

// validate(vm) first; on success argv[0] is options.binary and each further
// element is one argument (no shell quoting needed or done).
[[nodiscard]] result<std::vector<std::string>> build_command_line(
    const vm_definition& vm, const command_line_options& options = {});

}  // namespace vcube::qemu
