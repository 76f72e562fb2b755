// The eSAN kinds: field validation (schema_esan.cc) and the cross-object
// rules (rules_esan.cc) through store::apply.
#include <gtest/gtest.h>

#include "domain/schema.h"
#include "domain/store.h"
#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;

std::string bad_field(const std::string& kind, const std::string& name, const json& value) {
  auto s = validate_object(kind, name, value);
  return s ? "" : s.err().field;
}

json disk_value(int64_t size_mib = 64, int port = 7789) {
  return {{"size_mib", size_mib},
          {"nodes", {"n1", "n2"}},
          {"port", port},
          {"generation", "0123456789abcdef"},
          {"rate_mib", 0}};
}

json status_value() {
  return {
      {"disk", "d1"},
      {"node", "n1"},
      {"role", "primary"},
      {"connected", true},
      {"disk_state", "SyncSource"},
      {"percent", 40},
      {"verify", {{"state", "done"}, {"differing_regions", 1}, {"first_differences", {65536}}}}};
}

json esan_vm(const std::string& disk, const std::string& node = "n1",
             const std::string& mac = "52:54:00:00:00:01") {
  json vm = vm_value(node, mac);
  vm["disks"] = {{{"esan", disk}, {"bus", "virtio-blk"}, {"cache", "none"}}};
  return vm;
}

TEST(esan_schema, accepts_valid_objects) {
  EXPECT_EQ(bad_field("esan_disk", "d1", disk_value()), "");
  EXPECT_EQ(bad_field("esan_status", "d1.n1", status_value()), "");
  EXPECT_EQ(bad_field("vm", "vm1", esan_vm("d1")), "");
  auto disk = disk_value();
  disk["resolve"] = {{"discard", "n2"}, {"at", 5}};
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "");
  disk["outdated"] = "n2";
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "");
  auto status = status_value();
  status["suspended"] = true;
  EXPECT_EQ(bad_field("esan_status", "d1.n1", status), "");
}

TEST(esan_schema, names_the_offending_field) {
  auto disk = disk_value();
  disk["nodes"] = {"n1", "n1"};
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "nodes");
  disk["nodes"] = {"n1"};
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "nodes");
  disk = disk_value(0);
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "size_mib");
  disk = disk_value(64, 80);
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "port");
  disk = disk_value();
  disk["generation"] = "0000000000000000";
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "generation");
  disk = disk_value();
  disk["resolve"] = {{"discard", "n2"}};
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "resolve.at");
  disk = disk_value();
  disk["outdated"] = "n3";  // not one of its nodes
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "outdated");
  disk["outdated"] = 2;
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "outdated");
  disk = disk_value();
  disk["surprise"] = true;
  EXPECT_EQ(bad_field("esan_disk", "d1", disk), "surprise");
  EXPECT_EQ(bad_field("esan_disk", "d.1", disk_value()), "name");
  EXPECT_EQ(bad_field("esan_status", "d1.n2", status_value()), "name");
  auto st = status_value();
  st["disk_state"] = "Happy";
  EXPECT_EQ(bad_field("esan_status", "d1.n1", st), "disk_state");
  st = status_value();
  st["verify"]["first_differences"] = {-1};
  EXPECT_EQ(bad_field("esan_status", "d1.n1", st), "verify.first_differences");
}

TEST(esan_schema, a_vm_disk_is_an_image_or_an_esan_disk) {
  json vm = esan_vm("d1");
  vm["disks"][0]["image"] = "x.raw";
  EXPECT_EQ(bad_field("vm", "vm1", vm), "disks[0].image");
  vm["disks"][0].erase("image");
  vm["disks"][0]["size_mib"] = 10;
  EXPECT_EQ(bad_field("vm", "vm1", vm), "disks[0].size_mib");
  vm["disks"][0].erase("size_mib");
  vm["disks"][0]["format"] = "qcow2";
  EXPECT_EQ(bad_field("vm", "vm1", vm), "disks[0].format");
  vm["disks"][0] = json::object();
  EXPECT_EQ(bad_field("vm", "vm1", vm), "disks[0].image");
  EXPECT_TRUE(is_runtime_kind("esan_status"));
  EXPECT_FALSE(is_runtime_kind("esan_disk"));
}

class esan_rules : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    ASSERT_TRUE(s->apply(apply_request(
        {put("node", "n1", node_value(1, "10.0.0.1")), put("node", "n2", node_value(2, "10.0.0.2")),
         put("node", "n3", node_value(3, "10.0.0.3")), put("network", "lan", network_value())})));
  }
  error refused(std::vector<change> changes) {
    auto v = s->apply(apply_request(std::move(changes)));
    EXPECT_FALSE(v);
    return v ? error{} : v.err();
  }
  std::unique_ptr<store> s;
};

TEST_F(esan_rules, disks_need_their_nodes_and_a_free_port) {
  auto disk = disk_value();
  disk["nodes"] = {"n1", "n9"};
  EXPECT_EQ(refused({put("esan_disk", "d1", disk)}).field, "nodes");
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk_value())})));
  auto e = refused({put("esan_disk", "d2", disk_value())});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_EQ(e.field, "port");
  e = refused({remove("node", "n2")});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_NE(e.message.find("holds esan_disk 'd1'"), std::string::npos) << e.message;
}

TEST_F(esan_rules, a_disk_only_grows_and_keeps_its_identity) {
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk_value(64))})));
  EXPECT_EQ(refused({put("esan_disk", "d1", disk_value(32))}).field, "size_mib");
  EXPECT_EQ(refused({put("esan_disk", "d1", disk_value(64, 7790))}).field, "port");
  auto moved = disk_value();
  moved["nodes"] = {"n1", "n3"};
  EXPECT_EQ(refused({put("esan_disk", "d1", moved)}).field, "nodes");
  EXPECT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk_value(128))})));
}

TEST_F(esan_rules, vms_use_existing_disks_one_vm_each_on_any_node) {
  EXPECT_EQ(refused({put("vm", "vm1", esan_vm("d1"))}).field, "disks[0].esan");
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk_value())})));
  // n3 holds no copy: it runs the VM diskless.
  ASSERT_TRUE(s->apply(apply_request({put("vm", "vm1", esan_vm("d1", "n3"))})));
  ASSERT_TRUE(s->apply(apply_request({put("vm", "vm1", esan_vm("d1", "n2"))})));
  auto e = refused({put("vm", "vm2", esan_vm("d1", "n1", "52:54:00:00:00:02"))});
  EXPECT_EQ(e.code, errc::conflict);
  e = refused({remove("esan_disk", "d1")});
  EXPECT_EQ(e.code, errc::conflict);
  EXPECT_NE(e.message.find("in use by vm 'vm1'"), std::string::npos) << e.message;
}

TEST_F(esan_rules, a_status_needs_its_disk) {
  EXPECT_EQ(refused({put("esan_status", "d1.n1", status_value())}).field, "disk");
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk_value())})));
  EXPECT_TRUE(s->apply(apply_request({put("esan_status", "d1.n1", status_value())})));
}

}  // namespace
}  // namespace vcube::domain
