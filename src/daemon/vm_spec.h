// vm_spec: a VM's domain value (docs/domain.md, kind vm) turned into what the
// QEMU driver starts on this node. Pure: the caller resolves acceleration,
// creates the taps and checks the files.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "qemu/vm_definition.h"

namespace vcube::daemon {

struct vm_host_paths {
  std::string images_dir = "/var/lib/vcube/images";       // disks, ISOs, kernels
  std::string runs_dir = "/run/vcube/vms";                // one run directory per VM
  std::string esan_socket = "/run/vcube/esand-nbd.sock";  // vcube-esand's NBD socket
};

// How long QEMU holds a VM's I/O while vcube-esand is away (restarting),
// before the guest sees errors.
inline constexpr uint32_t esan_reconnect_delay_s = 30;

// The eSAN disks (names) a VM value uses, in order.
std::vector<std::string> esan_disks_of(const json& vm);

// The run directory of VM `name`.
std::string vm_run_dir(const vm_host_paths& paths, const std::string& name);

// A stable UUID for the VM (same name in the same cluster → same UUID), so
// the guest sees the same SMBIOS system UUID wherever it starts.
std::string vm_uuid(const std::string& cluster, const std::string& name);

struct vm_start_inputs {
  std::string cluster;
  std::string accel;              // kvm | tcg, already resolved
  std::vector<std::string> taps;  // tap interface of each NIC, in order
};

// The QEMU definition. invalid_input when the value is not a valid vm or
// `taps` does not match its NICs.
result<qemu::vm_definition> make_vm_definition(const std::string& name, const json& vm,
                                               const vm_host_paths& paths,
                                               const vm_start_inputs& inputs);

// The image files the VM needs (absolute), each with the size to create it
// with when missing (0: it must exist).
struct vm_file {
  std::string path;
  int64_t create_size_mib = 0;
  std::string format = "raw";
};
std::vector<vm_file> vm_files(const json& vm, const vm_host_paths& paths);

}  // namespace vcube::daemon
