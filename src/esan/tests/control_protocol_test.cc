// The control protocol's pure half: every op, every error path, the state
// file and the status shape.
#include "esan/control_protocol.h"

#include <gtest/gtest.h>

namespace vcube::esan::control {
namespace {

template <class T>
T parsed(const std::string& line) {
  auto c = parse_request(line);
  EXPECT_TRUE(c) << line << ": " << (c ? "" : c.err().message);
  if (!c)
    return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*c)) << line;
  return std::holds_alternative<T>(*c) ? std::get<T>(*c) : T{};
}

// The request is refused as invalid_input naming `field`.
void refused(const std::string& line, const std::string& field) {
  auto c = parse_request(line);
  ASSERT_FALSE(c) << line;
  EXPECT_EQ(c.err().code, errc::invalid_input) << line;
  EXPECT_EQ(c.err().field, field) << line << ": " << c.err().message;
  EXPECT_FALSE(c.err().message.empty());
}

const std::string create_line =
    R"({"op":"create","name":"vm1-disk0","data":"/d/a.img","meta":"/d/a.meta",)"
    R"("size":1048576,"generation":7,"primary":true)";

TEST(ControlProtocol, Create) {
  auto c = parsed<create_command>(create_line + "}");
  EXPECT_EQ(c.name, "vm1-disk0");
  EXPECT_EQ(c.data_path, "/d/a.img");
  EXPECT_EQ(c.meta_path, "/d/a.meta");
  EXPECT_EQ(c.size_bytes, 1048576u);
  EXPECT_EQ(c.generation, 7u);
  EXPECT_TRUE(c.is_primary);
  EXPECT_EQ(c.region_bytes, 65536u);
  EXPECT_EQ(parsed<create_command>(create_line + R"(,"region_bytes":4096})").region_bytes, 4096u);
}

TEST(ControlProtocol, CreateErrors) {
  refused(create_line + R"(,"colour":1})", "colour");
  refused(R"({"op":"create","data":"/a","meta":"/b","size":4096,"generation":0,"primary":false})",
          "name");
  refused(R"({"op":"create","name":"x y","data":"/a","meta":"/b","size":4096,"generation":0,)"
          R"("primary":false})",
          "name");
  refused(R"({"op":"create","name":")" + std::string(65, 'a') +
              R"(","data":"/a","meta":"/b","size":4096,"generation":0,"primary":false})",
          "name");
  refused(R"({"op":"create","name":"v","data":"","meta":"/b","size":4096,"generation":0,)"
          R"("primary":false})",
          "data");
  refused(R"({"op":"create","name":"v","data":"/a","size":4096,"generation":0,"primary":false})",
          "meta");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":4095,"generation":0,)"
          R"("primary":false})",
          "size");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":0,"generation":0,)"
          R"("primary":false})",
          "size");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":70368744181760,)"
          R"("generation":0,"primary":false})",
          "size");  // 64 TiB + 4 KiB
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":"4096","generation":0,)"
          R"("primary":false})",
          "size");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":4096,"generation":-1,)"
          R"("primary":false})",
          "generation");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":4096,"primary":false})",
          "generation");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":4096,"generation":0})",
          "primary");
  refused(R"({"op":"create","name":"v","data":"/a","meta":"/b","size":4096,"generation":0,)"
          R"("primary":1})",
          "primary");
  refused(create_line + R"(,"region_bytes":5000})", "region_bytes");
  refused(create_line + R"(,"region_bytes":2048})", "region_bytes");
}

TEST(ControlProtocol, Attach) {
  auto a = parsed<attach_command>(
      R"({"op":"attach","name":"d","data":"/a","meta":"/b","listen":"10.0.0.1:7789"})");
  EXPECT_EQ(a.volume.name, "d");
  ASSERT_TRUE(a.volume.listen);
  EXPECT_EQ(a.volume.listen->address, "10.0.0.1");
  EXPECT_EQ(a.volume.listen->port, 7789);
  EXPECT_FALSE(a.volume.peer);
  EXPECT_EQ(a.rate_bytes_per_s, 0u);
  auto b = parsed<attach_command>(
      R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"10.0.0.1:7789","rate":1000})");
  ASSERT_TRUE(b.volume.peer);
  EXPECT_EQ(b.rate_bytes_per_s, 1000u);
  EXPECT_FALSE(a.is_fencing);
  EXPECT_TRUE(parsed<attach_command>(
                  R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"1.2.3.4:1",)"
                  R"("fencing":true})")
                  .is_fencing);
  EXPECT_FALSE(same_volume(a, b));
  EXPECT_TRUE(same_volume(a, a));
}

TEST(ControlProtocol, AttachErrors) {
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b"})", "listen");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","listen":"1.2.3.4:1",)"
          R"("peer":"1.2.3.4:2"})",
          "peer");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","listen":"nowhere"})", "listen");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"1.2.3.4:99999"})", "peer");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"1.2.3.4:1","rate":-5})",
          "rate");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"1.2.3.4:1","x":0})", "x");
  refused(R"({"op":"attach","name":"d","data":7,"meta":"/b","peer":"1.2.3.4:1"})", "data");
  refused(R"({"op":"attach","name":"d","data":"/a","meta":"/b","peer":"1.2.3.4:1","fencing":1})",
          "fencing");
}

TEST(ControlProtocol, DetachDeletePromoteDemote) {
  auto d = parsed<detach_command>(R"({"op":"detach","name":"d"})");
  EXPECT_EQ(d.name, "d");
  EXPECT_FALSE(d.is_forced);
  EXPECT_TRUE(parsed<detach_command>(R"({"op":"detach","name":"d","force":true})").is_forced);
  refused(R"({"op":"detach","name":"d","force":"yes"})", "force");
  refused(R"({"op":"detach"})", "name");

  auto del = parsed<delete_command>(R"({"op":"delete","name":"d","data":"/a","meta":"/b"})");
  EXPECT_EQ(del.data_path, "/a");
  EXPECT_EQ(del.meta_path, "/b");
  refused(R"({"op":"delete","name":"d","data":"/a"})", "meta");

  EXPECT_FALSE(parsed<promote_command>(R"({"op":"promote","name":"d"})").allow_two_primaries);
  EXPECT_TRUE(parsed<promote_command>(R"({"op":"promote","name":"d","allow_two_primaries":true})")
                  .allow_two_primaries);
  refused(R"({"op":"promote","name":"d","allow_two_primaries":null})", "allow_two_primaries");
  EXPECT_EQ(parsed<demote_command>(R"({"op":"demote","name":"d"})").name, "d");
  refused(R"({"op":"demote","name":"d","force":true})", "force");
}

TEST(ControlProtocol, StatusRateResizeVerifyResolve) {
  EXPECT_FALSE(parsed<status_command>(R"({"op":"status"})").name);
  EXPECT_EQ(parsed<status_command>(R"({"op":"status","name":"d"})").name, "d");
  refused(R"({"op":"status","name":5})", "name");

  EXPECT_EQ(
      parsed<rate_command>(R"({"op":"rate","name":"d","bytes_per_second":5})").rate_bytes_per_s,
      5u);
  refused(R"({"op":"rate","name":"d"})", "bytes_per_second");
  refused(R"({"op":"rate","name":"d","bytes_per_second":1.5})", "bytes_per_second");

  EXPECT_EQ(parsed<resize_command>(R"({"op":"resize","name":"d","size":8192})").size_bytes, 8192u);
  refused(R"({"op":"resize","name":"d","size":100})", "size");

  EXPECT_EQ(parsed<verify_command>(R"({"op":"verify","name":"d"})").name, "d");
  refused(R"({"op":"verify","name":"d","deep":true})", "deep");

  EXPECT_EQ(parsed<resolve_command>(R"({"op":"resolve","name":"d","discard":true})").name, "d");
  refused(R"({"op":"resolve","name":"d"})", "discard");
  refused(R"({"op":"resolve","name":"d","discard":false})", "discard");

  EXPECT_EQ(parsed<outdate_peer_command>(R"({"op":"outdate_peer","name":"d"})").name, "d");
  refused(R"({"op":"outdate_peer"})", "name");
  refused(R"({"op":"outdate_peer","name":"d","node":"n2"})", "node");
}

TEST(ControlProtocol, MalformedRequests) {
  refused("", "");
  refused("{", "");
  refused("[1,2]", "");
  refused("\"status\"", "");
  refused(R"({"name":"d"})", "op");
  refused(R"({"op":7})", "op");
  refused(R"({"op":"explode"})", "op");
  refused(R"({"op":"status",)" + std::string(70000, ' ') + "}", "");  // oversized
}

TEST(ControlProtocol, StateFileRoundTrip) {
  auto a = parsed<attach_command>(
      R"({"op":"attach","name":"d","data":"/a","meta":"/b","listen":"10.0.0.1:7789","rate":9,)"
      R"("fencing":true})");
  auto b = parsed<attach_command>(
      R"({"op":"attach","name":"e","data":"/c","meta":"/d","peer":"[fd00::1]:7790"})");
  auto r = parsed<attach_remote_command>(
      R"({"op":"attach_remote","name":"f","size":8192,"servers":["10.0.0.1:10809","10.0.0.2:10809"]})");
  auto back = parse_state(state_text({{a, b}, {r}}));
  ASSERT_TRUE(back) << back.err().message;
  ASSERT_EQ(back->volumes.size(), 2u);
  EXPECT_TRUE(same_volume(back->volumes[0], a));
  EXPECT_EQ(back->volumes[0].rate_bytes_per_s, 9u);
  EXPECT_TRUE(back->volumes[0].is_fencing);
  EXPECT_TRUE(same_volume(back->volumes[1], b));
  EXPECT_FALSE(back->volumes[1].is_fencing);
  ASSERT_EQ(back->remotes.size(), 1u);
  EXPECT_EQ(attach_remote_json(back->remotes[0]), attach_remote_json(r));
  // A state file from before diskless attach has no remotes.
  auto old = parse_state(R"({"volumes":[]})");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->remotes.empty());
  EXPECT_FALSE(parse_state(R"({"volumes":[{"name":"d"}]})"));
  EXPECT_FALSE(parse_state(R"({"volumes":[],"other":1})"));
  EXPECT_FALSE(parse_state(R"({"volumes":[],"remotes":[{"name":"f"}]})"));
  EXPECT_FALSE(parse_state("not json"));
}

TEST(ControlProtocol, AttachRemote) {
  auto r = parsed<attach_remote_command>(
      R"({"op":"attach_remote","name":"f","size":8192,"servers":["10.0.0.1:10809"]})");
  EXPECT_EQ(r.remote.name, "f");
  EXPECT_EQ(r.remote.size_bytes, 8192u);
  ASSERT_EQ(r.remote.servers.size(), 1u);
  EXPECT_EQ(r.remote.servers[0].port, 10809);
  refused(R"({"op":"attach_remote","name":"f","size":8192})", "servers");
  refused(R"({"op":"attach_remote","name":"f","size":8192,"servers":[]})", "servers");
  refused(R"({"op":"attach_remote","name":"f","size":8192,"servers":["a:1","b:2","c:3"]})",
          "servers");
  refused(R"({"op":"attach_remote","name":"f","size":8192,"servers":["nonsense"]})", "servers");
  refused(R"({"op":"attach_remote","name":"f","size":8192,"servers":[7]})", "servers");
  refused(R"({"op":"attach_remote","name":"f","size":8191,"servers":["10.0.0.1:1"]})", "size");
  refused(R"({"op":"attach_remote","name":"../f","size":8192,"servers":["10.0.0.1:1"]})", "name");
  refused(R"({"op":"attach_remote","name":"f","size":8192,"servers":["10.0.0.1:1"],"x":1})", "x");
}

TEST(ControlProtocol, Replies) {
  auto ok = parse_json(reply_ok({{"volumes", json::array()}}));
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["ok"], true);
  EXPECT_TRUE((*ok)["volumes"].is_array());
  std::string line = reply_error(make_error(errc::not_found, "no volume d"));
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto e = parse_json(line);
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["ok"], false);
  EXPECT_EQ((*e)["error"], "no volume d");
  EXPECT_EQ((*e)["code"], "not_found");
  EXPECT_STREQ(reply_code(errc::invalid_input), "invalid_input");
  EXPECT_STREQ(reply_code(errc::conflict), "conflict");
  EXPECT_STREQ(reply_code(errc::unavailable), "unavailable");
  EXPECT_STREQ(reply_code(errc::internal), "io");
}

TEST(ControlProtocol, StatusShape) {
  volume_status s;
  s.name = "d";
  s.size_bytes = 4096;
  s.role = "primary";
  s.peer_role = "unknown";
  s.disk_state = "UpToDate";
  s.peer_disk_state = "unknown";
  s.generation = 0xabc;
  s.verify.first_differences = {65536};
  json j = status_json(s);
  for (const char* key :
       {"name", "size", "role", "peer_role", "connected", "disk_state", "peer_disk_state",
        "percent", "out_of_sync_bytes", "resynced_bytes", "rate", "message", "nbd_clients",
        "generation", "fencing", "suspended", "verify"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["generation"], "0000000000000abc");
  EXPECT_EQ(j["verify"]["state"], "idle");
  EXPECT_EQ(j["verify"]["first_differences"][0], 65536);
  for (const char* key : {"percent", "differing_regions", "differing_bytes"})
    EXPECT_TRUE(j["verify"].contains(key)) << key;
}

}  // namespace
}  // namespace vcube::esan::control
