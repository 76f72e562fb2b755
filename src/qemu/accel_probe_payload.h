// The probe guest that decides whether KVM works on this node: a raw firmware
// image for QEMU's -bios, generated in memory (no file shipped, no test guest
// needed). Its source and the contract with the host side (serial letters,
// isa-debug-exit status) are in accel_probe_payload.S.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vcube::qemu {

// QEMU wants a -bios image whose size is a multiple of 64 KiB.
inline constexpr std::size_t accel_probe_payload_size_bytes = 64 * 1024;

// What the guest prints on COM1, one letter per step, in order, then '\n'.
// 'c' is absent when the CPU lacks CX16.
inline constexpr std::string_view accel_probe_steps = "plmcx";
// QEMU's exit status when the guest wrote 0x10 to isa-debug-exit (0x10 << 1 | 1).
inline constexpr int accel_probe_exit_success = 33;
// ... and when the exception step ran but its handler did not (0x11 << 1 | 1).
inline constexpr int accel_probe_exit_no_exception = 35;
// The isa-debug-exit device the payload expects.
inline constexpr std::string_view accel_probe_exit_device = "isa-debug-exit,iobase=0xf4,iosize=4";

// The 64 KiB image.
std::string accel_probe_payload();

}  // namespace vcube::qemu
