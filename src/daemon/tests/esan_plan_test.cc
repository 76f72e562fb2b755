#include "daemon/esan_plan.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::daemon {
namespace {

using namespace domain::test;

const esan_paths paths{};

json disk_value() {
  return {{"size_mib", 64},
          {"nodes", {"n1", "n2"}},
          {"port", 7790},
          {"generation", "00000000000000ff"},
          {"rate_mib", 100}};
}

std::vector<std::string> ops(const std::vector<json>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests)
    out.push_back(r.value("op", "") + " " + r.value("name", ""));
  return out;
}

json attached(const std::string& name, const std::string& role = "secondary",
              uint64_t size = uint64_t(64) << 20) {
  return {{"name", name},
          {"size", size},
          {"role", role},
          {"connected", true},
          {"disk_state", "UpToDate"},
          {"rate", uint64_t(100) << 20},
          {"fencing", true},
          {"nbd_clients", 0}};
}

class esan_plan : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = domain::store::open(":memory:");
    ASSERT_TRUE(opened);
    s = std::move(*opened);
    auto v = s->apply(apply_request(
        {put("node", "n1", node_value(1, "10.0.0.1")), put("node", "n2", node_value(2, "10.0.0.2")),
         put("node", "n3", node_value(3, "10.0.0.3")), put("esan_disk", "d1", disk_value())}));
    ASSERT_TRUE(v) << v.err().message;
  }
  std::unique_ptr<domain::store> s;
};

TEST_F(esan_plan, the_first_node_listens_and_the_second_dials_it) {
  auto first = wanted_volumes(*s, "n1", paths);
  auto second = wanted_volumes(*s, "n2", paths);
  EXPECT_TRUE(wanted_volumes(*s, "n3", paths).empty());
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].listen, "10.0.0.1:7790");
  EXPECT_EQ(first[0].peer, "");
  EXPECT_EQ(second[0].peer, "10.0.0.1:7790");
  EXPECT_EQ(first[0].size_bytes, uint64_t(64) << 20);
  EXPECT_EQ(first[0].generation, 0xffu);
  EXPECT_EQ(first[0].rate, uint64_t(100) << 20);
  EXPECT_EQ(first[0].data, "/var/lib/vcube/esan/d1.img");
  EXPECT_EQ(first[0].meta, "/var/lib/vcube/esan/d1.meta");
}

TEST_F(esan_plan, a_new_disk_is_created_then_attached) {
  auto wanted = wanted_volumes(*s, "n2", paths);
  auto requests = esan_requests(wanted, json::array(), {}, paths);
  EXPECT_EQ(ops(requests), (std::vector<std::string>{"create d1", "attach d1"}));
  EXPECT_EQ(requests[0]["generation"], 0xff);
  EXPECT_EQ(requests[0]["primary"], false);
  EXPECT_EQ(requests[1]["peer"], "10.0.0.1:7790");
  EXPECT_FALSE(requests[1].contains("listen"));
  esan_local local;
  local.created = {"d1"};
  EXPECT_EQ(ops(esan_requests(wanted, json::array(), local, paths)),
            std::vector<std::string>{"attach d1"});
  EXPECT_TRUE(esan_requests(wanted, json::array({attached("d1")}), local, paths).empty());
}

TEST_F(esan_plan, an_imported_disk_starts_consistent_only_on_its_first_node) {
  json disk = disk_value();
  disk["import"] = {{"image", "db/base.qcow2"}, {"format", "qcow2"}};
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk)})));
  auto first = wanted_volumes(*s, "n1", paths);
  auto second = wanted_volumes(*s, "n2", paths);
  EXPECT_EQ(first[0].import_image, "/var/lib/vcube/images/db/base.qcow2");
  EXPECT_EQ(first[0].import_format, "qcow2");
  EXPECT_EQ(first[0].generation, 0xffu);
  EXPECT_EQ(second[0].import_image, "");
  EXPECT_EQ(second[0].generation, 0u);  // receives everything from n1
}

TEST_F(esan_plan, rate_and_growth_follow_the_domain) {
  auto wanted = wanted_volumes(*s, "n1", paths);
  esan_local local;
  local.created = {"d1"};
  json v = attached("d1", "secondary", uint64_t(32) << 20);
  v["rate"] = 0;
  auto requests = esan_requests(wanted, json::array({v}), local, paths);
  EXPECT_EQ(ops(requests), (std::vector<std::string>{"rate d1", "resize d1"}));
  EXPECT_EQ(requests[1]["size"], uint64_t(64) << 20);
}

TEST_F(esan_plan, a_primary_is_demoted_only_when_nothing_uses_it) {
  auto wanted = wanted_volumes(*s, "n1", paths);
  esan_local local;
  local.created = {"d1"};
  json v = attached("d1", "primary");
  EXPECT_EQ(ops(esan_requests(wanted, json::array({v}), local, paths)),
            std::vector<std::string>{"demote d1"});
  local.in_use = {"d1"};
  EXPECT_TRUE(esan_requests(wanted, json::array({v}), local, paths).empty());
  local.in_use.clear();
  v["nbd_clients"] = 1;  // a QEMU vcubed does not know about yet
  EXPECT_TRUE(esan_requests(wanted, json::array({v}), local, paths).empty());
}

TEST_F(esan_plan, verify_and_resolve_run_once_per_request) {
  json disk = disk_value();
  disk["verify_request"] = 5;
  disk["resolve"] = {{"discard", "n2"}, {"at", 7}};
  ASSERT_TRUE(s->apply(apply_request({put("esan_disk", "d1", disk)})));
  esan_local local;
  local.created = {"d1"};
  auto first = wanted_volumes(*s, "n1", paths);
  EXPECT_EQ(ops(esan_requests(first, json::array({attached("d1")}), local, paths)),
            std::vector<std::string>{"verify d1"});
  local.verify_done["d1"] = 5;
  EXPECT_TRUE(esan_requests(first, json::array({attached("d1")}), local, paths).empty());
  auto second = wanted_volumes(*s, "n2", paths);
  json split = attached("d1");
  split["connected"] = false;
  split["disk_state"] = "SplitBrain";
  EXPECT_EQ(ops(esan_requests(second, json::array({split}), local, paths)),
            std::vector<std::string>{"resolve d1"});
  local.resolve_done["d1"] = 7;
  EXPECT_TRUE(esan_requests(second, json::array({split}), local, paths).empty());
}

TEST_F(esan_plan, a_deleted_disk_is_detached_and_its_files_removed) {
  esan_local local;
  local.created = {"d1", "old"};
  auto requests = esan_requests({}, json::array({attached("d1")}), local, paths);
  EXPECT_EQ(ops(requests), (std::vector<std::string>{"detach d1", "delete d1", "delete old"}));
  EXPECT_EQ(requests[2]["data"], "/var/lib/vcube/esan/old.img");
}

TEST(esan_status, entering_split_brain_raises_one_critical_alert) {
  json split = attached("d1");
  split["disk_state"] = "SplitBrain";
  split["message"] = "split brain: both sides wrote";
  json before = esan_status_value("d1", "n1", attached("d1"), 0, 0, 1);
  json now = esan_status_value("d1", "n1", split, 0, 0, 2);
  json alert = esan_alert(before, now, 2000);
  ASSERT_TRUE(alert.is_object());
  EXPECT_EQ(alert["severity"], "critical");
  EXPECT_EQ(alert["subject"], "eSAN split brain: disk d1 on n1");
  EXPECT_NE(alert["text"].get<std::string>().find("resolve-split-brain d1"), std::string::npos);
  EXPECT_TRUE(esan_alert(json(), now, 2000).is_object());
  EXPECT_TRUE(esan_alert(now, now, 3000).is_null());  // once, not at every report
  EXPECT_TRUE(esan_alert(before, before, 3000).is_null());
}

TEST(esan_status, from_esand_and_worth_a_write_only_on_change) {
  json volume = attached("d1", "primary");
  volume["percent"] = 40;
  volume["resynced_bytes"] = 100;
  volume["verify"] = {{"state", "done"}, {"differing_regions", 0}, {"surprise", 1}};
  json a = esan_status_value("d1", "n1", volume, 3, 0, 1000);
  EXPECT_EQ(a["role"], "primary");
  EXPECT_EQ(a["size_bytes"], uint64_t(64) << 20);
  EXPECT_EQ(a["attached"], true);
  EXPECT_FALSE(a["verify"].contains("surprise"));
  EXPECT_EQ(a["verify_done"], 3);
  EXPECT_EQ(esan_status_value("d1", "n1", json(), 0, 0, 1)["disk_state"], "Detached");
  json b = esan_status_value("d1", "n1", volume, 3, 0, 1010);
  EXPECT_FALSE(esan_status_worth_writing(a, b));
  volume["resynced_bytes"] = 200;
  EXPECT_FALSE(esan_status_worth_writing(a, esan_status_value("d1", "n1", volume, 3, 0, 1010)));
  EXPECT_TRUE(esan_status_worth_writing(a, esan_status_value("d1", "n1", volume, 3, 0, 1030)));
  volume["percent"] = 41;
  EXPECT_TRUE(esan_status_worth_writing(a, esan_status_value("d1", "n1", volume, 3, 0, 1001)));
}

// Diskless attach: a VM on n3 uses d1 (on n1 and n2).
class esan_diskless : public esan_plan {
 protected:
  void SetUp() override {
    esan_plan::SetUp();
    json vm = vm_value("n3");
    vm["disks"] = {{{"esan", "d1"}}};
    apply({put("network", "lan", network_value()), put("vm", "vm1", vm)});
  }
  void apply(std::vector<domain::change> changes) {
    auto v = s->apply(apply_request(std::move(changes)));
    ASSERT_TRUE(v) << v.err().message;
  }
  void status(const std::string& node, const std::string& role, const std::string& state,
              int clients = 0) {
    apply({put("esan_status", "d1." + node,
               {{"disk", "d1"},
                {"node", node},
                {"role", role},
                {"disk_state", state},
                {"nbd_clients", clients}})});
  }
  std::string server(const std::set<std::string>& members) {
    return esan_serving_node(*s, "d1", members);
  }
  const std::set<std::string> all = {"n1", "n2", "n3"};
};

TEST_F(esan_diskless, the_vm_node_gets_a_remote_volume_from_both_disk_nodes) {
  EXPECT_TRUE(wanted_remotes(*s, "n3", {}).empty());  // no VM of it runs here
  auto remotes = wanted_remotes(*s, "n3", {"d1"});
  ASSERT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes[0].name, "d1");
  EXPECT_EQ(remotes[0].size_bytes, uint64_t(64) << 20);
  EXPECT_EQ(remotes[0].servers, (std::vector<std::string>{"10.0.0.1:10809", "10.0.0.2:10809"}));
  EXPECT_TRUE(wanted_remotes(*s, "n1", {"d1"}).empty());  // a copy there: local
  EXPECT_EQ(esan_nbd_listen(*s, "n2"), "10.0.0.2:10809");

  auto requests = esan_remote_requests(remotes, json::array());
  ASSERT_EQ(ops(requests), (std::vector<std::string>{"attach_remote d1"}));
  EXPECT_EQ(requests[0]["servers"], json({"10.0.0.1:10809", "10.0.0.2:10809"}));
  json have = {{{"name", "d1"},
                {"size", uint64_t(64) << 20},
                {"servers", {"10.0.0.1:10809", "10.0.0.2:10809"}}}};
  EXPECT_TRUE(esan_remote_requests(remotes, have).empty());
  // Grown: attached again with the new size, once its QEMU is gone.
  have[0]["size"] = uint64_t(32) << 20;
  have[0]["nbd_clients"] = 1;
  EXPECT_TRUE(esan_remote_requests(remotes, have).empty());
  have[0]["nbd_clients"] = 0;
  EXPECT_EQ(ops(esan_remote_requests(remotes, have)),
            (std::vector<std::string>{"detach d1", "attach_remote d1"}));
  // The VM left: detached.
  EXPECT_EQ(ops(esan_remote_requests({}, have)), (std::vector<std::string>{"detach d1"}));
}

TEST_F(esan_diskless, one_disk_node_serves_the_first_usable_one_when_both_are_up) {
  EXPECT_EQ(server(all), "");  // no status yet: no usable copy known
  status("n1", "secondary", "UpToDate");
  status("n2", "secondary", "UpToDate");
  EXPECT_EQ(server(all), "n1");
  status("n1", "secondary", "Inconsistent");
  EXPECT_EQ(server(all), "n2");
  status("n1", "secondary", "SplitBrain");
  status("n2", "secondary", "SplitBrain");
  EXPECT_EQ(server(all), "");  // the operator decides first
}

TEST_F(esan_diskless, the_node_serving_now_keeps_serving) {
  status("n1", "primary", "UpToDate");
  status("n2", "primary", "UpToDate", 1);  // n1 came back as primary; n2 serves
  EXPECT_EQ(server(all), "n2");
  status("n2", "primary", "UpToDate", 0);
  status("n1", "secondary", "UpToDate");
  EXPECT_EQ(server(all), "n2");  // a primary, even between two connections
}

TEST_F(esan_diskless, a_lost_server_is_replaced_only_once_it_is_fenced) {
  status("n1", "primary", "UpToDate", 1);
  status("n2", "secondary", "UpToDate");
  EXPECT_EQ(server({"n2", "n3"}), "");  // n1 may still be writing
  apply({put("ha_fence", "n1", {{"state", "requested"}})});
  EXPECT_EQ(server({"n2", "n3"}), "");
  apply({put("ha_fence", "n1", {{"state", "confirmed"}})});
  EXPECT_EQ(server({"n2", "n3"}), "n2");
}

TEST_F(esan_diskless, no_server_for_a_vm_on_a_disk_node) {
  status("n1", "secondary", "UpToDate");
  status("n2", "secondary", "UpToDate");
  json vm = vm_value("n2");
  vm["disks"] = {{{"esan", "d1"}}};
  apply({put("vm", "vm1", vm)});
  EXPECT_EQ(server(all), "");
}

TEST_F(esan_diskless, an_outdated_copy_does_not_serve) {
  status("n1", "secondary", "UpToDate");
  status("n2", "secondary", "UpToDate");
  json d = disk_value();
  d["outdated"] = "n1";
  apply({put("esan_disk", "d1", d)});
  EXPECT_EQ(server(all), "n2");
  EXPECT_EQ(server({"n1", "n3"}), "");  // n2, the up-to-date one, is away
}

TEST_F(esan_diskless, the_serving_node_promotes_and_keeps_its_primary) {
  auto wanted = wanted_volumes(*s, "n1", paths);
  esan_local local;
  local.created = {"d1"};
  local.serving = {"d1"};
  EXPECT_EQ(ops(esan_requests(wanted, json::array({attached("d1")}), local, paths)),
            (std::vector<std::string>{"promote d1"}));
  EXPECT_TRUE(esan_requests(wanted, json::array({attached("d1", "primary")}), local, paths)
                  .empty());  // no demote while it serves, even with no client connected yet
  local.serving.clear();
  EXPECT_EQ(ops(esan_requests(wanted, json::array({attached("d1", "primary")}), local, paths)),
            (std::vector<std::string>{"demote d1"}));
}

// Fencing (docs/esan.md, "Fencing").
class esan_fencing : public esan_plan {
 protected:
  json disk() { return s->get("esan_disk", "d1")->value; }
  void mark(const std::string& node) {
    json d = disk();
    d["outdated"] = node;
    auto v = s->apply(apply_request({put("esan_disk", "d1", d)}));
    ASSERT_TRUE(v) << v.err().message;
  }
  static json side(bool is_suspended, bool is_connected, const std::string& state = "UpToDate") {
    json v = attached("d1", "primary");
    v["suspended"] = is_suspended;
    v["connected"] = is_connected;
    v["disk_state"] = state;
    return v;
  }
};

TEST_F(esan_fencing, volumes_are_attached_with_fencing_on) {
  auto wanted = wanted_volumes(*s, "n1", paths);
  esan_local local;
  local.created = {"d1"};
  auto requests = esan_requests(wanted, json::array(), local, paths);
  ASSERT_EQ(ops(requests), (std::vector<std::string>{"attach d1"}));
  EXPECT_EQ(requests[0]["fencing"], true);
  // Attached by an older vcubed: attached again, which turns it on in place.
  json old = attached("d1");
  old.erase("fencing");
  EXPECT_EQ(ops(esan_requests(wanted, json::array({old}), local, paths)),
            (std::vector<std::string>{"attach d1"}));
}

TEST_F(esan_fencing, a_suspended_primary_marks_its_peer_and_the_peer_clears_it_when_up_to_date) {
  auto update = [&](const std::string& node, const json& volume) {
    return esan_outdated_update(disk(), node, volume, 1234);
  };
  EXPECT_TRUE(update("n1", side(false, true)).is_null());
  EXPECT_TRUE(update("n1", nullptr).is_null());
  EXPECT_TRUE(update("n3", side(true, false)).is_null());  // no copy there
  json marked = update("n1", side(true, false));
  ASSERT_FALSE(marked.is_null());
  EXPECT_EQ(marked["outdated"], "n2");
  EXPECT_EQ(marked["outdated_at"], 1234);
  EXPECT_EQ(marked["port"], 7790);  // the rest is kept
  mark("n2");
  EXPECT_TRUE(is_copy_outdated(disk(), "n2"));
  EXPECT_FALSE(is_copy_outdated(disk(), "n1"));
  // Marked already: asserted again (a write of its own comes before esand
  // is told), never left alone while suspended.
  EXPECT_EQ(update("n1", side(true, false)).value("outdated", ""), "n2");
  EXPECT_TRUE(update("n1", side(false, false)).is_null());
  // The marked node: suspended itself (a stale primary back from a fence)
  // it marks nobody; it clears its mark once connected and up to date.
  EXPECT_TRUE(update("n2", side(true, false)).is_null());
  EXPECT_TRUE(update("n2", side(false, true, "SyncTarget")).is_null());
  EXPECT_TRUE(update("n2", side(false, false)).is_null());
  json cleared = update("n2", side(false, true));
  ASSERT_FALSE(cleared.is_null());
  EXPECT_FALSE(cleared.contains("outdated"));
  EXPECT_FALSE(cleared.contains("outdated_at"));
}

TEST_F(esan_fencing, the_mark_is_relied_on_where_no_partition_can_undo_it) {
  const std::set<std::string> without_n2 = {"n1", "n3"};
  EXPECT_FALSE(may_rely_on_outdated_peer(*s, "d1", "n1", without_n2));  // not marked
  mark("n2");
  EXPECT_TRUE(may_rely_on_outdated_peer(*s, "d1", "n1", without_n2));   // three nodes
  EXPECT_FALSE(may_rely_on_outdated_peer(*s, "d1", "n2", without_n2));  // n1 is not marked
  EXPECT_FALSE(may_rely_on_outdated_peer(*s, "d1", "n3", without_n2));  // no copy there
  // Two nodes: both sides of a split are quorate, so only a member peer or
  // a confirmed fence counts.
  auto v = s->apply(apply_request({remove("node", "n3")}));
  ASSERT_TRUE(v) << v.err().message;
  EXPECT_FALSE(may_rely_on_outdated_peer(*s, "d1", "n1", {"n1"}));
  EXPECT_TRUE(may_rely_on_outdated_peer(*s, "d1", "n1", {"n1", "n2"}));
  v = s->apply(apply_request({put("ha_fence", "n2", {{"state", "confirmed"}})}));
  ASSERT_TRUE(v) << v.err().message;
  EXPECT_TRUE(may_rely_on_outdated_peer(*s, "d1", "n1", {"n1"}));
}

}  // namespace
}  // namespace vcube::daemon
