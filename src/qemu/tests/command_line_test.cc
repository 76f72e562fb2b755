#include "qemu/command_line.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "qemu/tests/vm_fixtures.h"
#include "tests/golden/golden.h"

namespace vcube::qemu {
namespace {

using testing::full_vm;
using testing::minimal_vm;

// Set VCUBE_UPDATE_GOLDEN=1 to rewrite the golden files from the current output.
std::string golden_path(const std::string& name) {
  return std::string(VCUBE_SOURCE_DIR) + "/tests/golden/qemu/" + name;
}

std::string one_per_line(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args)
    text += arg + "\n";
  return text;
}

void expect_matches_golden(const vm_definition& vm, const std::string& name) {
  auto args = build_command_line(vm);
  ASSERT_TRUE(args.ok()) << args.err().message;
  ::vcube::testing::expect_matches_golden(one_per_line(*args), golden_path(name));
}

TEST(command_line, minimal_vm_matches_golden) {
  expect_matches_golden(minimal_vm(), "minimal.argv");
}

TEST(command_line, two_disks_two_nics_and_cdrom_match_golden) {
  expect_matches_golden(full_vm(), "full.argv");
}

TEST(command_line, empty_cdrom_matches_golden) {
  vm_definition vm = minimal_vm();
  vm.disks.push_back({"/var/lib/vcube/images/web1.raw", "raw", "virtio-blk", "writeback"});
  vm.cdrom = cdrom_definition{};
  vm.boot_order = {"disk", "cdrom"};
  expect_matches_golden(vm, "empty_cdrom.argv");
}

TEST(command_line, tcg_matches_golden) {
  vm_definition vm = minimal_vm();
  vm.acceleration = "tcg";
  vm.vcpus = 2;
  vm.nics.push_back({"52:54:00:00:00:01", "vc-tap9", "virtio-net"});
  vm.disks.push_back({"nbd://10.0.0.2/vol-1", "raw", "virtio-blk", "directsync", true, 0});
  vm.boot_order = {"network", "disk"};
  expect_matches_golden(vm, "tcg.argv");
}

TEST(command_line, kernel_boot_matches_golden) {
  vm_definition vm = minimal_vm();
  vm.acceleration = "tcg";
  vm.machine_type = "pc-q35-7.2";
  vm.kernel = kernel_boot{"/var/lib/vcube/guest/vmlinuz", "/var/lib/vcube/guest/initrd.img",
                          "console=ttyS0 quiet panic=-1"};
  vm.disks.push_back({"nbd://[fd00::2]:10900/vol-2", "raw", "virtio-scsi", "unsafe", false, 5});
  expect_matches_golden(vm, "kernel_boot.argv");
}

TEST(command_line, kvm_and_tcg_differ_only_in_accel_and_cpu) {
  vm_definition vm = minimal_vm();
  auto kvm = build_command_line(vm);
  vm.acceleration = "tcg";
  auto tcg = build_command_line(vm);
  ASSERT_TRUE(kvm.ok());
  ASSERT_TRUE(tcg.ok());
  ASSERT_EQ(kvm->size(), tcg->size());
  std::vector<std::pair<std::string, std::string>> differences;
  for (size_t i = 0; i < kvm->size(); ++i) {
    if ((*kvm)[i] != (*tcg)[i])
      differences.emplace_back((*kvm)[i], (*tcg)[i]);
  }
  std::vector<std::pair<std::string, std::string>> expected = {{"q35,accel=kvm", "q35,accel=tcg"},
                                                               {"host", "max"}};
  EXPECT_EQ(differences, expected);
}

TEST(command_line, output_is_deterministic) {
  auto first = build_command_line(full_vm());
  auto second = build_command_line(full_vm());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

TEST(command_line, binary_is_argv0) {
  auto args = build_command_line(minimal_vm(), {"/usr/bin/qemu-system-x86_64"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->front(), "/usr/bin/qemu-system-x86_64");
}

TEST(command_line, invalid_definition_builds_nothing) {
  vm_definition vm = minimal_vm();
  vm.vcpus = 0;
  auto args = build_command_line(vm);
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.err().field, "vcpus");
}

TEST(command_line, run_paths_are_inside_run_dir) {
  run_paths paths = run_paths_in("/run/vcube/vms/a/");
  EXPECT_EQ(paths.qmp_socket, "/run/vcube/vms/a/qmp.sock");
  EXPECT_EQ(paths.vnc_socket, "/run/vcube/vms/a/vnc.sock");
  EXPECT_EQ(paths.serial_log, "/run/vcube/vms/a/serial.log");
  EXPECT_EQ(paths.pid_file, "/run/vcube/vms/a/qemu.pid");
}

}  // namespace
}  // namespace vcube::qemu
