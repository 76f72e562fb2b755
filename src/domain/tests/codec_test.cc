#include "domain/codec.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;

std::vector<message> samples() {
  return {
      write_message{
          3, 0xfedcba9876543210ull, 42,
          apply_request({put("network", "lan", network_value(), 0), remove("host", "h", 7)})},
      write_message{1, 1, 1, request_of(write_request::type::activate)},
      summary_message{{1, 2, 3}, 2, 17, std::string(64, 'a'), true},
      state_message{2, {1, 2}, 0, 1, 3, "{\"x\": \"\\u0001\"}"},
      check_message{1, 9},
      check_reply_message{1, 9, 17, std::string(64, 'b')},
  };
}

TEST(codec, round_trip) {
  for (const auto& m : samples()) {
    std::string wire = encode(m);
    EXPECT_EQ(wire.substr(0, 4), "VCD1");
    auto back = decode(wire);
    ASSERT_TRUE(back.ok()) << wire << ": " << back.err().message;
    EXPECT_TRUE(*back == m) << wire;
  }
}

void expect_garbage(std::string_view payload) {
  auto m = decode(payload);
  ASSERT_FALSE(m.ok()) << payload.substr(0, 200);
  EXPECT_EQ(m.err().code, errc::invalid_input);
}

std::string with_field(const message& m, const std::string& key, json value) {
  json j = json::parse(encode(m).substr(4));
  if (value.is_discarded())
    j.erase(key);
  else
    j[key] = std::move(value);
  return "VCD1" + j.dump();
}

TEST(codec, garbage_is_an_error) {
  expect_garbage("");
  expect_garbage("VCD");
  expect_garbage("VCD2{\"type\":\"check\",\"initiator\":1,\"seq\":1}");
  expect_garbage("VCD1");
  expect_garbage("VCD1{");
  expect_garbage("VCD1[1,2]");
  expect_garbage("VCD1\"text\"");
  expect_garbage("VCD1{\"type\":\"nope\"}");
  expect_garbage("VCD1{\"type\":7}");
  expect_garbage(std::string("VCD1{\"type\":\"check\",\"initiator\":1,\"seq\":1}\0", 43));
  expect_garbage("VCD1" + std::string(100000, '[') + std::string(100000, ']'));
  expect_garbage("VCD1{\"type\":\"check\",\"initiator\":1,\"seq\":1,\"chunk\":\"" +
                 std::string(message_bytes_max, 'x') + "\"}");
  expect_garbage("VCD1\xff\xfe{}");
}

TEST(codec, wrong_and_missing_fields_are_errors) {
  const json discard = json(json::value_t::discarded);
  for (const auto& m : samples()) {
    json j = json::parse(encode(m).substr(4));
    for (const auto& [key, value] : j.items()) {
      if (key == "type")
        continue;
      expect_garbage(with_field(m, key, discard));         // missing
      expect_garbage(with_field(m, key, json::object()));  // wrong type
      expect_garbage(with_field(m, key, json(-1)));        // negative
    }
    expect_garbage(with_field(m, "surplus", 1));  // unknown
  }
  summary_message s{{2, 1}, 0, 1, "x"};
  expect_garbage(encode(s));  // unsorted members
  s.members = {1, 1};
  expect_garbage(encode(s));
  s.members = {};
  expect_garbage(encode(s));
  s.members = {0};
  expect_garbage(encode(s));
  state_message st{1, {1}, 0, 3, 3, "x"};
  expect_garbage(encode(st));  // part out of range
  st.part = 0;
  st.parts = 0;
  expect_garbage(encode(st));
  st.parts = 1;
  st.chunk = std::string(state_chunk_bytes_max + 1, 'x');
  expect_garbage(encode(st));
  check_message c{1, 1};
  expect_garbage(with_field(c, "initiator", json(uint64_t(1) << 33)));
  expect_garbage(with_field(c, "seq", 1.5));
}

TEST(codec, malformed_write_requests_are_errors) {
  write_message w{1, 1, 1, apply_request({put("network", "lan", network_value())})};
  json j = json::parse(encode(w).substr(4));
  auto variant = [&](auto edit) {
    json copy = j;
    edit(copy["request"]);
    return "VCD1" + copy.dump();
  };
  expect_garbage(variant([](json& r) { r["type"] = "explode"; }));
  expect_garbage(variant([](json& r) { r["changes"] = "all"; }));
  expect_garbage(variant([](json& r) { r["changes"][0]["op"] = "merge"; }));
  expect_garbage(variant([](json& r) { r["changes"][0].erase("value"); }));
  expect_garbage(variant([](json& r) { r["changes"][0]["base_version"] = "7"; }));
  expect_garbage(variant([](json& r) { r["changes"][0]["extra"] = 1; }));
  expect_garbage(variant([](json& r) { r["changes"][0]["kind"] = 5; }));
  expect_garbage(variant([](json& r) { r.erase("changes"); }));
}

// Every prefix and some byte flips of valid messages decode or fail cleanly.
TEST(codec, truncations_and_flips_never_crash) {
  for (const auto& m : samples()) {
    std::string wire = encode(m);
    for (size_t n = 0; n < wire.size(); ++n)
      (void)decode(std::string_view(wire).substr(0, n));
    for (size_t i = 0; i < wire.size(); ++i) {
      std::string flipped = wire;
      flipped[i] = char(flipped[i] ^ 0x5a);
      (void)decode(flipped);
    }
  }
}

}  // namespace
}  // namespace vcube::domain
