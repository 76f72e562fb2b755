// Definitions shared by the command-line and validation tests.
#pragma once

#include "qemu/vm_definition.h"

namespace vcube::qemu::testing {

inline vm_definition minimal_vm() {
  vm_definition vm;
  vm.name = "web1";
  vm.uuid = "0F8FAD5B-D9CB-469F-A165-70867728950E";
  vm.vcpus = 1;
  vm.memory_mib = 512;
  vm.run_dir = "/run/vcube/vms/web1";
  return vm;
}

// Two disks (a local qcow2 on virtio-blk, an eSAN volume over NBD on
// virtio-scsi), two NICs, an ISO in the cdrom, boot from cdrom then disk.
inline vm_definition full_vm() {
  vm_definition vm = minimal_vm();
  vm.name = "db-2";
  vm.vcpus = 4;
  vm.memory_mib = 8192;
  vm.disks.push_back(
      {"/var/lib/vcube/images/db-2,root.qcow2", "qcow2", "virtio-blk", "none", false, 0});
  vm.disks.push_back(
      {"nbd+unix:///vol-7?socket=/run/vcube/esand.sock", "raw", "virtio-scsi", "writethrough"});
  vm.nics.push_back({"52:54:00:AB:CD:01", "vc-tap0", "virtio-net"});
  vm.nics.push_back({"52:54:00:ab:cd:02", "vc-tap1", "virtio-net"});
  vm.cdrom = cdrom_definition{"/var/lib/vcube/iso/debian-12.iso"};
  vm.boot_order = {"cdrom", "disk"};
  vm.run_dir = "/run/vcube/vms/db-2/";
  return vm;
}

}  // namespace vcube::qemu::testing
