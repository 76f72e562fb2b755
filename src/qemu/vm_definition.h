// vm_definition: what the QEMU driver needs to know to start one VM, as plain
// values. Enumerations are strings (as they arrive from the domain store or the
// API) so that validation can name the bad value; validate() is the only
// gatekeeper, and the command-line builder refuses anything it rejects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace vcube::qemu {

inline constexpr int vcpus_min = 1;
inline constexpr int vcpus_max = 64;
inline constexpr int64_t memory_mib_min = 64;
inline constexpr int64_t memory_mib_max = 1048576;  // 1 TiB
inline constexpr size_t disks_max = 16;
inline constexpr size_t nics_max = 8;
inline constexpr size_t path_bytes_max = 1024;
inline constexpr size_t kernel_cmdline_bytes_max = 4096;

struct disk_definition {
  // An absolute image path, or an NBD URI: nbd://host[:port]/export or
  // nbd+unix:///export?socket=/absolute/path.
  std::string source;
  std::string format = "raw";      // raw | qcow2 (never probed: probing is unsafe)
  std::string bus = "virtio-blk";  // virtio-blk | virtio-scsi
  std::string cache = "none";      // none | writeback | writethrough | directsync | unsafe
  bool is_readonly = false;
  // NBD sources: for this many seconds after the connection is lost QEMU
  // holds the guest's I/O and reconnects (a restarting server costs no I/O
  // error); 0: fail at once. At most 3600.
  uint32_t nbd_reconnect_delay_s = 0;
};

struct nic_definition {
  std::string mac;                   // unicast, aa:bb:cc:dd:ee:ff
  std::string tap_ifname;            // an existing tap device (the caller creates it)
  std::string model = "virtio-net";  // virtio-net
};

struct cdrom_definition {
  std::string iso_path;  // absolute; empty: an empty drive that can take an ISO later
};

// Direct kernel boot (the test guest boots this way): -kernel, -initrd, -append.
struct kernel_boot {
  std::string kernel_path;  // absolute
  std::string initrd_path;  // absolute, or empty
  std::string cmdline;      // at most 4096 bytes
};

struct vm_definition {
  std::string name;  // [A-Za-z0-9][A-Za-z0-9._-]*, at most 63 bytes
  std::string uuid;  // 8-4-4-4-12 hex digits
  int vcpus = 1;
  int64_t memory_mib = 512;
  std::string machine_type = "q35";
  std::string acceleration = "kvm";  // kvm | tcg (the caller resolves "auto")
  std::vector<disk_definition> disks;
  std::vector<nic_definition> nics;
  std::optional<cdrom_definition> cdrom;  // absent: no cdrom drive at all
  std::vector<std::string> boot_order;    // each of disk | cdrom | network, at most once
  std::optional<kernel_boot> kernel;      // absent: the firmware boots a device
  std::string run_dir;  // absolute, no ','; holds the sockets, the serial log and the pid file
};

// The first problem found, as errc::invalid_input with `field` set to the
// offending field ("disks[1].cache") and a message that starts with it.
[[nodiscard]] status validate(const vm_definition& vm);

}  // namespace vcube::qemu
