#include "domain/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "domain/backup.h"
#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;
using type = write_request::type;

std::unique_ptr<store> open_memory() {
  auto s = store::open(":memory:");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
  return std::move(*s);
}

uint64_t must_apply(store& s, const write_request& r) {
  auto v = s.apply(r);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.err().message);
  return v.ok() ? *v : 0;
}

// A temporary file path removed at the end of the test.
struct temp_path {
  std::string path = testing::TempDir() + "domain_store_test_" + std::to_string(getpid()) + ".db";
  ~temp_path() {
    for (auto suffix : {"", "-wal", "-shm", "-journal"})
      ::unlink((path + suffix).c_str());
  }
};

TEST(store, empty_store) {
  auto s = open_memory();
  EXPECT_EQ(s->version(), 0u);
  EXPECT_FALSE(s->get("network", "lan"));
  EXPECT_TRUE(s->list("network").empty());
  EXPECT_TRUE(s->staged().empty());
  EXPECT_EQ(s->checksum().size(), 64u);
}

TEST(store, apply_puts_and_removes) {
  auto s = open_memory();
  EXPECT_EQ(must_apply(*s, apply_request({put("network", "b", network_value(2)),
                                          put("network", "a", network_value(1))})),
            1u);
  auto lan = s->get("network", "a");
  ASSERT_TRUE(lan);
  EXPECT_EQ(lan->version, 1u);
  EXPECT_EQ(lan->value["vlan"], 1);
  auto all = s->list("network");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[1].name, "b");
  EXPECT_EQ(must_apply(*s, apply_request({remove("network", "a")})), 2u);
  EXPECT_FALSE(s->get("network", "a"));
  EXPECT_EQ(s->get("network", "b")->version, 1u);
}

TEST(store, base_version_conflicts) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("network", "lan", network_value(), 0)}));
  auto again = s->apply(apply_request({put("network", "lan", network_value(), 0)}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.err().code, errc::conflict);
  EXPECT_NE(again.err().message.find("already exists"), std::string::npos);
  auto stale = s->apply(apply_request({put("network", "lan", network_value(5), 7)}));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.err().code, errc::conflict);
  EXPECT_EQ(stale.err().field, "base_version");
  EXPECT_EQ(must_apply(*s, apply_request({put("network", "lan", network_value(5), 1)})), 2u);
  auto gone = s->apply(apply_request({remove("network", "nope")}));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.err().code, errc::not_found);
  EXPECT_EQ(s->version(), 2u);
}

TEST(store, error_rolls_back_everything) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("network", "lan", network_value())}));
  std::string before = s->checksum();
  auto bad = s->apply(apply_request(
      {put("network", "lan", network_value(20)), put("network", "wan", network_value(10, 70000))}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.err().code, errc::invalid_input);
  EXPECT_EQ(bad.err().field, "mtu");
  auto conflict = s->apply(
      apply_request({put("network", "new", network_value()), remove("network", "missing")}));
  ASSERT_FALSE(conflict.ok());
  EXPECT_NE(conflict.err().message.find("change 2"), std::string::npos);
  EXPECT_EQ(s->version(), 1u);
  EXPECT_EQ(s->checksum(), before);
  EXPECT_EQ(s->get("network", "lan")->value["vlan"], 10);
  EXPECT_FALSE(s->get("network", "new"));
}

TEST(store, refuses_bad_requests) {
  auto s = open_memory();
  EXPECT_EQ(s->apply(apply_request({})).err().code, errc::invalid_input);
  EXPECT_EQ(s->apply(apply_request({put("vms", "x", json::object())})).err().field, "kind");
  EXPECT_EQ(s->apply(apply_request({remove("cluster", "cluster")})).err().code,
            errc::invalid_input);
  EXPECT_EQ(s->apply(request_of(type::activate)).err().code, errc::conflict);
  EXPECT_EQ(s->apply(request_of(type::discard, {remove("host", "h")})).err().code,
            errc::invalid_input);
  json big = {{"address", "h"}, {"description", std::string(1000, 'x')}};
  std::vector<change> many(changes_per_request_max + 1, put("host", "h", big));
  EXPECT_EQ(s->apply(apply_request(many)).err().code, errc::too_large);
  EXPECT_EQ(s->version(), 0u);
}

TEST(store, cross_object_rules) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("node", "n1", node_value(1, "10.0.0.1"))}));
  auto dup_id = s->apply(apply_request({put("node", "n2", node_value(1, "10.0.0.2"))}));
  ASSERT_FALSE(dup_id.ok());
  EXPECT_EQ(dup_id.err().code, errc::conflict);
  EXPECT_EQ(dup_id.err().field, "id");
  auto dup_address = s->apply(apply_request({put("node", "n2", node_value(2, "10.0.0.1"))}));
  ASSERT_FALSE(dup_address.ok());
  EXPECT_EQ(dup_address.err().field, "addresses");
  auto no_group = s->apply(apply_request({put("user", "u", user_value({"admin"}, {"ops"}))}));
  ASSERT_FALSE(no_group.ok());
  EXPECT_EQ(no_group.err().code, errc::invalid_input);
  EXPECT_EQ(no_group.err().field, "groups");
  must_apply(*s, apply_request({put("group", "ops", group_value()),
                                put("user", "u", user_value({"admin"}, {"ops"}))}));
  auto in_use = s->apply(apply_request({remove("group", "ops")}));
  ASSERT_FALSE(in_use.ok());
  EXPECT_EQ(in_use.err().code, errc::conflict);
  EXPECT_NE(in_use.err().message.find("in use"), std::string::npos);
}

TEST(store, last_admin_is_kept) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("user", "root", user_value({"admin"})),
                                put("user", "bob", user_value({"viewer"}))}));
  EXPECT_EQ(s->apply(apply_request({remove("user", "root")})).err().code, errc::conflict);
  EXPECT_EQ(s->apply(apply_request({put("user", "root", user_value({"viewer"}))})).err().code,
            errc::conflict);
  json disabled = user_value();
  disabled["enabled"] = false;
  EXPECT_EQ(s->apply(apply_request({put("user", "root", disabled)})).err().code, errc::conflict);
  // Admin through a group counts.
  must_apply(*s, apply_request({put("group", "admins", group_value({"admin"})),
                                put("user", "bob", user_value({"viewer"}, {"admins"}))}));
  must_apply(*s, apply_request({remove("user", "root")}));
  EXPECT_EQ(s->apply(apply_request({put("group", "admins", group_value({"viewer"}))})).err().code,
            errc::conflict);
}

TEST(store, stage_activate_discard) {
  auto s = open_memory();
  EXPECT_EQ(must_apply(*s, request_of(type::stage, {put("network", "lan", network_value())})), 1u);
  EXPECT_FALSE(s->get("network", "lan"));
  ASSERT_EQ(s->staged().size(), 1u);
  auto bad_stage = s->apply(request_of(type::stage, {put("network", "x", network_value(9999))}));
  EXPECT_EQ(bad_stage.err().field, "vlan");
  must_apply(*s, request_of(type::stage, {put("host", "h", {{"address", "h"}})}));
  EXPECT_EQ(s->staged().size(), 2u);
  EXPECT_EQ(must_apply(*s, request_of(type::activate)), 3u);
  EXPECT_TRUE(s->staged().empty());
  EXPECT_EQ(s->get("network", "lan")->version, 3u);
  EXPECT_TRUE(s->get("host", "h"));
  must_apply(*s, request_of(type::stage, {remove("host", "h")}));
  EXPECT_EQ(must_apply(*s, request_of(type::discard)), 5u);
  EXPECT_TRUE(s->staged().empty());
  EXPECT_TRUE(s->get("host", "h"));
}

TEST(store, activate_is_all_or_nothing) {
  auto s = open_memory();
  must_apply(*s, request_of(type::stage, {put("network", "lan", network_value())}));
  must_apply(*s, request_of(type::stage, {remove("host", "missing")}));
  auto failed = s->apply(request_of(type::activate));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.err().code, errc::not_found);
  EXPECT_NE(failed.err().message.find("change 2 (remove host 'missing')"), std::string::npos);
  EXPECT_FALSE(s->get("network", "lan"));
  EXPECT_EQ(s->staged().size(), 2u);
  EXPECT_EQ(s->version(), 2u);
}

TEST(store, import_replaces_all_but_nodes) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("node", "n1", node_value(1, "10.0.0.1")),
                                put("network", "old", network_value()),
                                put("user", "root", user_value())}));
  must_apply(*s, request_of(type::stage, {put("host", "h", {{"address", "h"}})}));
  json backup = s->export_backup("lab");
  EXPECT_EQ(backup["format"], "vcube-domain-backup");
  EXPECT_EQ(backup["objects"]["network"]["old"]["vlan"], 10);
  backup["objects"]["network"].erase("old");
  backup["objects"]["network"]["new"] = network_value(30);
  backup["objects"]["node"]["n9"] = node_value(9, "10.0.0.9");
  auto request = import_request(backup);
  ASSERT_TRUE(request.ok()) << request.err().message;
  EXPECT_EQ(must_apply(*s, *request), 3u);
  EXPECT_FALSE(s->get("network", "old"));
  EXPECT_TRUE(s->get("network", "new"));
  EXPECT_TRUE(s->get("node", "n1"));
  EXPECT_FALSE(s->get("node", "n9"));
  EXPECT_TRUE(s->staged().empty());
  EXPECT_FALSE(import_request(json{{"format", "other"}}).ok());
}

TEST(store, checksum_is_deterministic) {
  auto a = open_memory();
  auto b = open_memory();
  std::vector<write_request> requests = {
      apply_request({put("network", "z", network_value(1)), put("host", "h", {{"address", "h"}})}),
      request_of(type::stage, {put("network", "y", network_value(2))}),
      apply_request({put("cluster", "cluster", cluster_value())}), request_of(type::activate)};
  for (const auto& r : requests) {
    must_apply(*a, r);
    must_apply(*b, r);
    EXPECT_EQ(a->checksum(), b->checksum());
  }
  std::string before = a->checksum();
  must_apply(*a, apply_request({put("network", "z", network_value(3))}));
  EXPECT_NE(a->checksum(), before);
  EXPECT_NE(a->checksum(), b->checksum());
}

TEST(store, snapshot_round_trip) {
  auto a = open_memory();
  must_apply(*a, apply_request(
                     {put("network", "lan", network_value()), put("user", "root", user_value())}));
  must_apply(*a, request_of(type::stage, {remove("network", "lan")}));
  auto b = open_memory();
  must_apply(*b, apply_request({put("host", "other", {{"address", "x"}})}));
  ASSERT_TRUE(b->load_snapshot(a->snapshot()).ok());
  EXPECT_EQ(b->version(), a->version());
  EXPECT_EQ(b->checksum(), a->checksum());
  EXPECT_FALSE(b->get("host", "other"));
  EXPECT_EQ(b->staged(), a->staged());
}

TEST(store, bad_snapshot_changes_nothing) {
  auto s = open_memory();
  must_apply(*s, apply_request({put("host", "h", {{"address", "h"}})}));
  std::string before = s->checksum();
  json snap = s->snapshot();
  snap["objects"][0]["value"]["address"] = "not valid!";
  EXPECT_FALSE(s->load_snapshot(snap).ok());
  EXPECT_FALSE(s->load_snapshot(json{{"format", "x"}}).ok());
  EXPECT_FALSE(s->load_snapshot(json::array()).ok());
  json late = s->snapshot();
  late["objects"][0]["version"] = 99;
  EXPECT_FALSE(s->load_snapshot(late).ok());
  EXPECT_EQ(s->checksum(), before);
}

TEST(store, reopen_keeps_data) {
  temp_path tmp;
  std::string sum;
  {
    auto s = store::open(tmp.path);
    ASSERT_TRUE(s.ok()) << s.err().message;
    must_apply(**s, apply_request({put("network", "lan", network_value())}));
    must_apply(**s, request_of(type::stage, {put("host", "h", {{"address", "h"}})}));
    must_apply(**s,
               apply_request({remove("network", "lan"), put("network", "wan", network_value())}));
    sum = (*s)->checksum();
  }
  auto s = store::open(tmp.path);
  ASSERT_TRUE(s.ok()) << s.err().message;
  EXPECT_EQ((*s)->version(), 3u);
  EXPECT_EQ((*s)->checksum(), sum);
  EXPECT_FALSE((*s)->get("network", "lan"));
  EXPECT_EQ((*s)->staged().size(), 1u);
  json snap = (*s)->snapshot();
  ASSERT_TRUE((*s)->load_snapshot(snap).ok());
  auto again = store::open(tmp.path);
  EXPECT_EQ((*again)->checksum(), sum);
}

TEST(store, corrupt_or_foreign_file_is_a_clear_error) {
  temp_path tmp;
  {
    std::ofstream out(tmp.path);
    out << "this is not a database at all, just some text that is long enough to fill a header"
        << std::string(4096, 'x');
  }
  auto garbage = store::open(tmp.path);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.err().message.find(tmp.path), std::string::npos) << garbage.err().message;
  EXPECT_NE(garbage.err().message.find("Move the file away"), std::string::npos);
}

TEST(store, unsupported_format_version) {
  temp_path tmp;
  {
    auto s = store::open(tmp.path);
    ASSERT_TRUE(s.ok());
  }
  {
    auto db = sqlite::database::open(tmp.path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version = 7").ok());
  }
  auto s = store::open(tmp.path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("format version 7"), std::string::npos) << s.err().message;
  {
    auto db = sqlite::database::open(tmp.path);
    ASSERT_TRUE(db->exec("PRAGMA user_version = 1; PRAGMA application_id = 42").ok());
  }
  auto foreign = store::open(tmp.path);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.err().message.find("not a vcube domain database"), std::string::npos);
}

}  // namespace
}  // namespace vcube::domain
