#include "daemon/vm_spec.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::daemon {
namespace {

const vm_host_paths paths{"/img", "/run/vcube/vms", "/run/vcube/esand-nbd.sock"};

TEST(vm_spec, definition_from_the_domain_value) {
  auto d = make_vm_definition("vm1", domain::test::vm_value(), paths, {"lab", "tcg", {"vctap0"}});
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_EQ(d->name, "vm1");
  EXPECT_EQ(d->acceleration, "tcg");
  EXPECT_EQ(d->run_dir, "/run/vcube/vms/vm1");
  ASSERT_EQ(d->disks.size(), 1u);
  EXPECT_EQ(d->disks[0].source, "/img/vm1/disk0.raw");
  ASSERT_EQ(d->nics.size(), 1u);
  EXPECT_EQ(d->nics[0].tap_ifname, "vctap0");
  EXPECT_EQ(d->nics[0].mac, "52:54:00:00:00:01");
  ASSERT_TRUE(d->cdrom);
  EXPECT_EQ(d->cdrom->iso_path, "");
  ASSERT_TRUE(d->kernel);
  EXPECT_EQ(d->kernel->kernel_path, "/img/vmlinux");
  EXPECT_EQ(d->kernel->initrd_path, "/img/initrd.img");
}

TEST(vm_spec, taps_must_match_the_nics) {
  auto d = make_vm_definition("vm1", domain::test::vm_value(), paths, {"lab", "tcg", {}});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.err().code, errc::invalid_input);
}

TEST(vm_spec, refuses_an_invalid_value) {
  json vm = domain::test::vm_value();
  vm["vcpus"] = 0;
  EXPECT_FALSE(make_vm_definition("vm1", vm, paths, {"lab", "tcg", {"t"}}));
}

TEST(vm_spec, uuid_is_stable_and_distinct) {
  EXPECT_EQ(vm_uuid("lab", "vm1"), vm_uuid("lab", "vm1"));
  EXPECT_NE(vm_uuid("lab", "vm1"), vm_uuid("lab", "vm2"));
  EXPECT_NE(vm_uuid("lab", "vm1"), vm_uuid("other", "vm1"));
  EXPECT_EQ(vm_uuid("lab", "vm1").size(), 36u);
  EXPECT_EQ(vm_uuid("lab", "vm1")[14], '5');
}

TEST(vm_spec, an_esan_disk_is_opened_over_nbd_with_a_reconnect_delay) {
  json vm = domain::test::vm_value();
  vm["disks"].push_back({{"esan", "db-data"}});
  auto d = make_vm_definition("vm1", vm, paths, {"lab", "tcg", {"vctap0"}});
  ASSERT_TRUE(d) << d.err().message;
  ASSERT_EQ(d->disks.size(), 2u);
  EXPECT_EQ(d->disks[1].source, "nbd+unix:///db-data?socket=/run/vcube/esand-nbd.sock");
  EXPECT_EQ(d->disks[1].nbd_reconnect_delay_s, esan_reconnect_delay_s);
  EXPECT_EQ(d->disks[0].nbd_reconnect_delay_s, 0u);
  EXPECT_EQ(esan_disks_of(vm), std::vector<std::string>{"db-data"});
  EXPECT_EQ(vm_files(vm, paths).size(), 3u);  // the eSAN disk is no file to create
}

TEST(vm_spec, files_to_check_or_create) {
  auto files = vm_files(domain::test::vm_value(), paths);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "/img/vm1/disk0.raw");
  EXPECT_EQ(files[0].create_size_mib, 64);
  EXPECT_EQ(files[1].path, "/img/vmlinux");
  EXPECT_EQ(files[1].create_size_mib, 0);
}

}  // namespace
}  // namespace vcube::daemon
