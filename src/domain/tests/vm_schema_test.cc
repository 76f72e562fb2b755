// The vm and vm_status kinds: field validation (schema_vm.cc) and the
// cross-object rules (rules_vm.cc) through store::apply.
#include <gtest/gtest.h>

#include "domain/schema.h"
#include "domain/store.h"
#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;

// The error's field for `value` as a vm, or "" when it is valid.
std::string bad_field(const json& value) {
  auto s = validate_object("vm", "vm1", value);
  return s ? "" : s.err().field;
}

json with(json value, const json::json_pointer& at, json replacement) {
  value[at] = std::move(replacement);
  return value;
}

TEST(vm_schema, accepts_a_full_definition) {
  auto s = validate_object("vm", "vm1", vm_value());
  EXPECT_TRUE(s) << s.err().message;
}

TEST(vm_schema, names_the_offending_field) {
  const json vm = vm_value();
  EXPECT_EQ(bad_field(with(vm, "/vcpus"_json_pointer, 0)), "vcpus");
  EXPECT_EQ(bad_field(with(vm, "/vcpus"_json_pointer, 65)), "vcpus");
  EXPECT_EQ(bad_field(with(vm, "/memory_mib"_json_pointer, 32)), "memory_mib");
  EXPECT_EQ(bad_field(with(vm, "/machine"_json_pointer, "virt")), "machine");
  EXPECT_EQ(bad_field(with(vm, "/acceleration"_json_pointer, "hvf")), "acceleration");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/cache"_json_pointer, "fast")), "disks[0].cache");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/bus"_json_pointer, "ide")), "disks[0].bus");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/image"_json_pointer, "../etc/shadow")), "disks[0].image");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/image"_json_pointer, "/etc/shadow")), "disks[0].image");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/size_mib"_json_pointer, 0)), "disks[0].size_mib");
  EXPECT_EQ(bad_field(with(vm, "/disks/0/speed"_json_pointer, 1)), "disks[0].speed");
  EXPECT_EQ(bad_field(with(vm, "/nics/0/mac"_json_pointer, "01:00:5e:00:00:01")), "nics[0].mac");
  EXPECT_EQ(bad_field(with(vm, "/nics/0/mac"_json_pointer, "52:54:00:AA:00:01")), "nics[0].mac");
  EXPECT_EQ(bad_field(with(vm, "/nics/0/model"_json_pointer, "e1000")), "nics[0].model");
  EXPECT_EQ(bad_field(with(vm, "/cdrom"_json_pointer, "a/../b.iso")), "cdrom");
  EXPECT_EQ(bad_field(with(vm, "/boot_order"_json_pointer, {"disk", "disk"})), "boot_order");
  EXPECT_EQ(bad_field(with(vm, "/kernel/cmdline"_json_pointer, std::string(5000, 'x'))),
            "kernel.cmdline");
  EXPECT_EQ(bad_field(with(vm, "/node"_json_pointer, "N 1")), "node");
  EXPECT_EQ(bad_field(with(vm, "/ram"_json_pointer, 1)), "ram");
  json no_node = vm;
  no_node.erase("node");
  EXPECT_EQ(bad_field(no_node), "node");
  json many_nics = vm;
  many_nics["nics"] = json::array();
  for (int i = 0; i < 9; ++i)
    many_nics["nics"].push_back(vm["nics"][0]);
  EXPECT_EQ(bad_field(many_nics), "nics");
}

TEST(vm_schema, message_names_the_vm_and_the_element) {
  auto s = validate_object("vm", "web", with(vm_value(), "/disks/0/cache"_json_pointer, "fast"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().message.rfind("vm 'web': disks[0].cache must be", 0), 0u) << s.err().message;
}

TEST(vm_schema, vm_status_fields) {
  EXPECT_TRUE(validate_object("vm_status", "vm1", vm_status_value("n1", "running")));
  auto s = validate_object("vm_status", "vm1", vm_status_value("n1", "dancing"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().field, "state");
}

class vm_rules : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    json n1 = node_value(1, "10.0.0.1");
    n1["memory_mib"] = 4096;
    n1["cpus"] = 4;
    ASSERT_TRUE(
        s->apply(apply_request({put("node", "n1", n1), put("network", "lan", network_value()),
                                put("network", "dmz", network_value(20))})));
  }
  error refused(std::vector<change> changes) {
    auto v = s->apply(apply_request(std::move(changes)));
    EXPECT_FALSE(v.ok());
    return v.ok() ? error{} : v.err();
  }
  std::unique_ptr<store> s;
};

TEST_F(vm_rules, accepts_a_vm_that_fits) {
  auto v = s->apply(apply_request({put("vm", "vm1", vm_value())}));
  EXPECT_TRUE(v) << v.err().message;
}

TEST_F(vm_rules, refuses_unknown_node_and_network) {
  EXPECT_EQ(refused({put("vm", "vm1", vm_value("n9"))}).field, "node");
  auto e = refused({put("vm", "vm1", with(vm_value(), "/nics/0/network"_json_pointer, "wan"))});
  EXPECT_EQ(e.field, "nics[0].network");
  EXPECT_NE(e.message.find("network 'wan' does not exist"), std::string::npos) << e.message;
}

TEST_F(vm_rules, refuses_what_does_not_fit_the_node) {
  EXPECT_EQ(refused({put("vm", "vm1", with(vm_value(), "/memory_mib"_json_pointer, 8192))}).field,
            "memory_mib");
  EXPECT_EQ(refused({put("vm", "vm1", with(vm_value(), "/vcpus"_json_pointer, 8))}).field, "vcpus");
}

TEST_F(vm_rules, refuses_duplicate_macs_across_vms) {
  ASSERT_TRUE(s->apply(apply_request({put("vm", "vm1", vm_value())})));
  auto e = refused({put("vm", "vm2", vm_value())});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_EQ(e.field, "nics[0].mac");
  EXPECT_EQ(s->get("vm", "vm2"), std::nullopt);  // nothing half-created
}

TEST_F(vm_rules, a_network_in_use_cannot_be_removed) {
  ASSERT_TRUE(s->apply(apply_request({put("vm", "vm1", vm_value())})));
  auto e = refused({remove("network", "lan")});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_NE(e.message.find("in use by vm 'vm1'"), std::string::npos) << e.message;
  EXPECT_TRUE(s->apply(apply_request({remove("network", "dmz")})));
}

TEST_F(vm_rules, a_running_vm_cannot_be_removed) {
  ASSERT_TRUE(s->apply(apply_request(
      {put("vm", "vm1", vm_value()), put("vm_status", "vm1", vm_status_value("n1", "running"))})));
  EXPECT_EQ(refused({remove("vm", "vm1"), remove("vm_status", "vm1")}).code, errc::conflict);
  ASSERT_TRUE(s->apply(apply_request({put("vm_status", "vm1", vm_status_value("n1", "stopped"))})));
  EXPECT_TRUE(s->apply(apply_request({remove("vm", "vm1"), remove("vm_status", "vm1")})));
}

TEST_F(vm_rules, a_status_needs_its_vm) {
  EXPECT_EQ(refused({put("vm_status", "ghost", vm_status_value("n1", "running"))}).field, "name");
}

TEST_F(vm_rules, import_keeps_vm_status) {
  ASSERT_TRUE(s->apply(apply_request(
      {put("vm", "vm1", vm_value()), put("vm_status", "vm1", vm_status_value("n1", "running"))})));
  auto v =
      s->apply(request_of(write_request::type::import,
                          {put("network", "lan", network_value()), put("vm", "vm1", vm_value()),
                           put("vm_status", "vm1", vm_status_value("n1", "stopped"))}));
  ASSERT_TRUE(v) << v.err().message;
  auto status = s->get("vm_status", "vm1");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->value["state"], "running");
}

}  // namespace
}  // namespace vcube::domain
