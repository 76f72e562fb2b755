#include <gtest/gtest.h>

#include <functional>

#include "qemu/tests/vm_fixtures.h"
#include "qemu/vm_definition.h"

namespace vcube::qemu {
namespace {

using testing::full_vm;
using testing::minimal_vm;

struct bad_case {
  const char* label;
  std::function<void(vm_definition&)> break_it;
  const char* field;
  const char* message;  // the whole message
};

const bad_case bad_cases[] = {
    {"empty name", [](vm_definition& vm) { vm.name = ""; }, "name", nullptr},
    {"name with a space", [](vm_definition& vm) { vm.name = "a b"; }, "name", nullptr},
    {"name starting with '-'", [](vm_definition& vm) { vm.name = "-x"; }, "name", nullptr},
    {"short uuid", [](vm_definition& vm) { vm.uuid = "1234"; }, "uuid", nullptr},
    {"uuid without dashes",
     [](vm_definition& vm) { vm.uuid = "0f8fad5bd9cb469fa16570867728950e0000"; }, "uuid", nullptr},
    {"no vcpus", [](vm_definition& vm) { vm.vcpus = 0; }, "vcpus", "vcpus: 0 is outside 1..64"},
    {"65 vcpus", [](vm_definition& vm) { vm.vcpus = 65; }, "vcpus", nullptr},
    {"63 MiB", [](vm_definition& vm) { vm.memory_mib = 63; }, "memory_mib",
     "memory_mib: 63 is outside 64..1048576"},
    {"over 1 TiB", [](vm_definition& vm) { vm.memory_mib = 1048577; }, "memory_mib", nullptr},
    {"machine with a comma", [](vm_definition& vm) { vm.machine_type = "q35,accel=tcg"; },
     "machine_type", nullptr},
    {"auto acceleration", [](vm_definition& vm) { vm.acceleration = "auto"; }, "acceleration",
     "acceleration: unknown acceleration 'auto' (kvm, tcg)"},
    {"relative run dir", [](vm_definition& vm) { vm.run_dir = "run/web1"; }, "run_dir", nullptr},
    {"run dir with a comma", [](vm_definition& vm) { vm.run_dir = "/run/a,b"; }, "run_dir",
     nullptr},
    {"unknown cache", [](vm_definition& vm) { vm.disks[1].cache = "fast"; }, "disks[1].cache",
     "disks[1].cache: unknown cache mode 'fast' (none, writeback, writethrough, directsync, "
     "unsafe)"},
    {"unknown bus", [](vm_definition& vm) { vm.disks[0].bus = "ide"; }, "disks[0].bus", nullptr},
    {"unknown format", [](vm_definition& vm) { vm.disks[0].format = "vmdk"; }, "disks[0].format",
     nullptr},
    {"relative disk path", [](vm_definition& vm) { vm.disks[0].source = "disk.img"; },
     "disks[0].source", nullptr},
    {"empty disk path", [](vm_definition& vm) { vm.disks[0].source = ""; }, "disks[0].source",
     "disks[0].source: is required"},
    {"bad nbd uri", [](vm_definition& vm) { vm.disks[1].source = "nbd://host:99999/x"; },
     "disks[1].source", nullptr},
    {"17 disks", [](vm_definition& vm) { vm.disks.resize(17, vm.disks[0]); }, "disks", nullptr},
    {"mac with dashes", [](vm_definition& vm) { vm.nics[0].mac = "52-54-00-ab-cd-01"; },
     "nics[0].mac", nullptr},
    {"short mac", [](vm_definition& vm) { vm.nics[0].mac = "52:54:00:ab:cd"; }, "nics[0].mac",
     nullptr},
    {"multicast mac", [](vm_definition& vm) { vm.nics[1].mac = "01:00:5e:00:00:01"; },
     "nics[1].mac", nullptr},
    {"duplicate mac", [](vm_definition& vm) { vm.nics[1].mac = "52:54:00:ab:cd:01"; },
     "nics[1].mac", "nics[1].mac: same MAC as nics[0]"},
    {"long tap name", [](vm_definition& vm) { vm.nics[0].tap_ifname = "vc-tap-0123456789"; },
     "nics[0].tap_ifname", nullptr},
    {"tap name with a comma", [](vm_definition& vm) { vm.nics[0].tap_ifname = "a,b"; },
     "nics[0].tap_ifname", nullptr},
    {"duplicate tap", [](vm_definition& vm) { vm.nics[1].tap_ifname = "vc-tap0"; },
     "nics[1].tap_ifname", nullptr},
    {"e1000", [](vm_definition& vm) { vm.nics[0].model = "e1000"; }, "nics[0].model", nullptr},
    {"9 nics", [](vm_definition& vm) { vm.nics.resize(9, vm.nics[0]); }, "nics", nullptr},
    {"relative iso", [](vm_definition& vm) { vm.cdrom->iso_path = "a.iso"; }, "cdrom.iso_path",
     nullptr},
    {"unknown boot device", [](vm_definition& vm) { vm.boot_order = {"floppy"}; }, "boot_order[0]",
     "boot_order[0]: unknown boot device 'floppy' (disk, cdrom, network)"},
    {"boot device twice",
     [](vm_definition& vm) {
       vm.boot_order = {"disk", "disk"};
     },
     "boot_order[1]", nullptr},
    {"boot from a missing cdrom",
     [](vm_definition& vm) {
       vm.cdrom.reset();
       vm.boot_order = {"cdrom"};
     },
     "boot_order[0]", nullptr},
    {"relative kernel",
     [](vm_definition& vm) {
       vm.kernel = kernel_boot{"vmlinuz", "", ""};
     },
     "kernel.kernel_path", nullptr},
    {"long kernel cmdline",
     [](vm_definition& vm) {
       vm.kernel = kernel_boot{"/k", "", std::string(4097, 'x')};
     },
     "kernel.cmdline", nullptr},
};

TEST(validation, good_definitions_pass) {
  EXPECT_TRUE(validate(minimal_vm()).ok());
  EXPECT_TRUE(validate(full_vm()).ok());
}

TEST(validation, each_bad_definition_names_its_field) {
  for (const bad_case& c : bad_cases) {
    vm_definition vm = full_vm();
    c.break_it(vm);
    status s = validate(vm);
    ASSERT_FALSE(s.ok()) << c.label;
    EXPECT_EQ(s.err().code, errc::invalid_input) << c.label;
    EXPECT_EQ(s.err().field, c.field) << c.label;
    EXPECT_TRUE(s.err().message.starts_with(std::string(c.field) + ": "))
        << c.label << ": " << s.err().message;
    if (c.message != nullptr) {
      EXPECT_EQ(s.err().message, c.message) << c.label;
    }
  }
}

TEST(validation, limits_are_inclusive) {
  vm_definition vm = minimal_vm();
  vm.vcpus = 64;
  vm.memory_mib = 1048576;
  EXPECT_TRUE(validate(vm).ok());
  vm.vcpus = 1;
  vm.memory_mib = 64;
  EXPECT_TRUE(validate(vm).ok());
}

TEST(validation, mac_case_does_not_matter_for_duplicates) {
  vm_definition vm = full_vm();
  vm.nics[1].mac = "52:54:00:ab:cd:01";  // nics[0] is upper case
  EXPECT_FALSE(validate(vm).ok());
}

}  // namespace
}  // namespace vcube::qemu
