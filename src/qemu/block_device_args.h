// block_device_args: the -blockdev/-device arguments for a VM's disks and
// cdrom. Internal to command_line; expects a validated definition.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qemu/vm_definition.h"

namespace vcube::qemu {

// Appends to `args`. `boot_index` is the bootindex for the device, if any.
void append_disk_args(const disk_definition& disk, size_t index, size_t scsi_index,
                      std::optional<int> boot_index, std::vector<std::string>& args);
void append_cdrom_args(const cdrom_definition& cdrom, std::optional<int> boot_index,
                       std::vector<std::string>& args);
// The virtio-scsi controller all virtio-scsi disks attach to.
void append_scsi_controller_args(std::vector<std::string>& args);

}  // namespace vcube::qemu
