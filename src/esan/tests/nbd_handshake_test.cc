#include "esan/nbd_handshake.h"

#include <gtest/gtest.h>

#include <random>

#include "esan/tests/nbd_test_client.h"

namespace vcube::esan::nbd {
namespace {

using namespace testing;

std::vector<export_description> two_exports() {
  return {export_description{"alpha", 1 << 20, false, 512, 4096, 32 << 20},
          export_description{"beta", 4096, true, 1, 4096, 65536}};
}

// A handshake past the greeting and the client flags.
struct started {
  handshake hs{two_exports()};
  explicit started(uint32_t flags = flag_c_fixed_newstyle | flag_c_no_zeroes) {
    hs.take_output();
    const std::string f = client_flags(flags);
    EXPECT_EQ(hs.feed(bytes_of(f)), 4u);
  }
  std::vector<option_reply_message> send(const std::string& wire) {
    EXPECT_EQ(hs.feed(bytes_of(wire)), wire.size());
    return parse_option_replies(hs.take_output());
  }
};

TEST(NbdHandshake, GreetingIsFixedNewstyleWithNoZeroes) {
  handshake hs(two_exports());
  const std::string out = hs.take_output();
  ASSERT_EQ(out.size(), 18u);
  EXPECT_EQ(get_u64(bytes_of(out), 0), magic_nbd);
  EXPECT_EQ(get_u64(bytes_of(out), 8), magic_option);
  EXPECT_EQ(get_u16(bytes_of(out), 16), flag_fixed_newstyle | flag_no_zeroes);
  EXPECT_EQ(hs.state(), handshake_state::negotiating);
}

TEST(NbdHandshake, UnknownClientFlagsClose) {
  started s(1 << 5);
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
  EXPECT_NE(s.hs.close_reason().find("flags"), std::string::npos);
}

TEST(NbdHandshake, ExportNameWithoutNoZeroesSendsPadding) {
  started s(flag_c_fixed_newstyle);
  EXPECT_EQ(s.hs.feed(bytes_of(option_request(option::export_name, "alpha"))), 21u);
  const std::string out = s.hs.take_output();
  ASSERT_EQ(out.size(), 8u + 2 + 124);
  EXPECT_EQ(get_u64(bytes_of(out), 0), 1u << 20);
  EXPECT_EQ(s.hs.state(), handshake_state::transmission);
  EXPECT_FALSE(s.hs.negotiated().has_block_sizes);
  EXPECT_EQ(s.hs.negotiated().alignment_bytes(), 1u);
}

TEST(NbdHandshake, ExportNameWithNoZeroesSendsSizeAndFlagsOnly) {
  started s;
  s.hs.feed(bytes_of(option_request(option::export_name, "beta")));
  const std::string out = s.hs.take_output();
  ASSERT_EQ(out.size(), 10u);
  const uint16_t flags = get_u16(bytes_of(out), 8);
  EXPECT_TRUE(flags & flag_read_only);
  EXPECT_FALSE(flags & flag_send_trim);
  EXPECT_EQ(s.hs.negotiated().exported.name, "beta");
}

TEST(NbdHandshake, ExportNameUnknownCloses) {
  started s;
  s.hs.feed(bytes_of(option_request(option::export_name, "gamma")));
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
  EXPECT_TRUE(s.hs.take_output().empty());
  EXPECT_NE(s.hs.close_reason().find("gamma"), std::string::npos);
}

TEST(NbdHandshake, EmptyNameIsTheOnlyExport) {
  handshake hs({export_description{"only", 8192}});
  hs.take_output();
  hs.feed(bytes_of(client_flags(flag_c_fixed_newstyle | flag_c_no_zeroes)));
  hs.feed(bytes_of(option_request(option::export_name, "")));
  EXPECT_EQ(hs.state(), handshake_state::transmission);
  EXPECT_EQ(hs.negotiated().exported.name, "only");
}

TEST(NbdHandshake, EmptyNameIsUnknownWithSeveralExports) {
  started s;
  auto r = s.send(option_request(option::go, go_data("", {})));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::err_unknown));
}

TEST(NbdHandshake, ListNamesEveryExportThenAcks) {
  started s;
  auto r = s.send(option_request(option::list));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].type, type_of(option_reply::server));
  EXPECT_EQ(r[0].data.substr(4), "alpha");
  EXPECT_EQ(get_u32(bytes_of(r[0].data), 0), 5u);
  EXPECT_EQ(r[1].data.substr(4), "beta");
  EXPECT_EQ(r[2].type, type_of(option_reply::ack));
  EXPECT_EQ(r[2].opt, static_cast<uint32_t>(option::list));
  EXPECT_EQ(s.hs.state(), handshake_state::negotiating);
}

TEST(NbdHandshake, ListWithDataIsInvalid) {
  started s;
  auto r = s.send(option_request(option::list, "x"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::err_invalid));
  EXPECT_FALSE(r[0].data.empty());  // a message for a person
}

TEST(NbdHandshake, AbortAcksAndCloses) {
  started s;
  auto r = s.send(option_request(option::abort));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::ack));
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
}

TEST(NbdHandshake, InfoDescribesWithoutEndingNegotiation) {
  started s;
  auto r = s.send(option_request(option::info, go_data("alpha", {3})));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].type, type_of(option_reply::info));
  ASSERT_EQ(r[0].data.size(), 12u);
  EXPECT_EQ(get_u16(bytes_of(r[0].data), 0), 0u);
  EXPECT_EQ(get_u64(bytes_of(r[0].data), 2), 1u << 20);
  ASSERT_EQ(r[1].data.size(), 14u);
  EXPECT_EQ(get_u16(bytes_of(r[1].data), 0), 3u);
  EXPECT_EQ(get_u32(bytes_of(r[1].data), 2), 512u);
  EXPECT_EQ(get_u32(bytes_of(r[1].data), 6), 4096u);
  EXPECT_EQ(get_u32(bytes_of(r[1].data), 10), 32u << 20);
  EXPECT_EQ(r[2].type, type_of(option_reply::ack));
  EXPECT_EQ(s.hs.state(), handshake_state::negotiating);
}

TEST(NbdHandshake, GoWithBlockSizesEntersTransmissionEnforcingTheMinimum) {
  started s;
  auto r = s.send(option_request(option::go, go_data("alpha", {1, 3, 2})));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].type, type_of(option_reply::ack));
  EXPECT_EQ(s.hs.state(), handshake_state::transmission);
  EXPECT_TRUE(s.hs.negotiated().has_block_sizes);
  EXPECT_EQ(s.hs.negotiated().alignment_bytes(), 512u);
  const uint16_t flags = s.hs.negotiated().transmission_flags;
  EXPECT_EQ(get_u16(bytes_of(r[0].data), 10), flags);
  EXPECT_TRUE(flags & flag_send_flush);
  EXPECT_TRUE(flags & flag_send_fua);
  EXPECT_TRUE(flags & flag_send_trim);
  EXPECT_TRUE(flags & flag_send_write_zeroes);
  EXPECT_FALSE(flags & flag_send_df);
}

TEST(NbdHandshake, GoWithoutBlockSizesAllowsAnyAlignment) {
  started s;
  auto r = s.send(option_request(option::go, go_data("alpha", {})));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(s.hs.negotiated().has_block_sizes);
  EXPECT_EQ(s.hs.negotiated().alignment_bytes(), 1u);
}

TEST(NbdHandshake, GoUnknownExportKeepsNegotiating) {
  started s;
  auto r = s.send(option_request(option::go, go_data("nope", {})));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::err_unknown));
  EXPECT_NE(r[0].data.find("nope"), std::string::npos);
  EXPECT_EQ(s.hs.state(), handshake_state::negotiating);
  r = s.send(option_request(option::go, go_data("beta", {})));
  EXPECT_EQ(s.hs.state(), handshake_state::transmission);
}

TEST(NbdHandshake, GoBadLengthsAreInvalid) {
  started s;
  std::string name_past_end;
  put_u32(name_past_end, 100);
  name_past_end += "ab";
  put_u16(name_past_end, 0);
  std::string count_mismatch = go_data("alpha", {3});
  count_mismatch.pop_back();
  for (const std::string& data :
       {std::string("abc"), name_past_end, count_mismatch, go_data("alpha", {3}) + "x"}) {
    auto r = s.send(option_request(option::go, data));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, type_of(option_reply::err_invalid));
  }
  EXPECT_EQ(s.hs.state(), handshake_state::negotiating);
}

TEST(NbdHandshake, StructuredRepliesAreNegotiatedAndAllowDf) {
  started s;
  auto r = s.send(option_request(option::structured_reply));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::ack));
  s.send(option_request(option::go, go_data("alpha", {3})));
  EXPECT_TRUE(s.hs.negotiated().has_structured_replies);
  EXPECT_TRUE(s.hs.negotiated().transmission_flags & flag_send_df);
}

TEST(NbdHandshake, StructuredReplyWithDataIsInvalid) {
  started s;
  auto r = s.send(option_request(option::structured_reply, "zz"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::err_invalid));
}

TEST(NbdHandshake, UnknownOptionsAreUnsupported) {
  started s;
  for (uint32_t opt : {0u, 4u, 5u, 9u, 10u, 11u, 12u, 0xffffffffu}) {
    auto r = s.send(option_request(opt, "data"));
    ASSERT_EQ(r.size(), 1u) << opt;
    EXPECT_EQ(r[0].opt, opt);
    EXPECT_EQ(r[0].type, type_of(option_reply::err_unsup));
  }
  EXPECT_EQ(s.hs.state(), handshake_state::negotiating);
}

TEST(NbdHandshake, BadOptionMagicCloses) {
  started s;
  std::string wire = option_request(option::list);
  wire[0] = 'X';
  s.hs.feed(bytes_of(wire));
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
}

TEST(NbdHandshake, OversizedOptionIsSkippedAndRefused) {
  started s;
  auto r = s.send(option_request(option::go, std::string(100000, 'a')));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].type, type_of(option_reply::err_too_big));
  r = s.send(option_request(option::list));
  EXPECT_EQ(r.size(), 3u);
}

TEST(NbdHandshake, OversizedExportNameCloses) {
  started s;
  s.hs.feed(bytes_of(option_request(option::export_name, std::string(9000, 'n'))));
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
}

TEST(NbdHandshake, TooManyOptionsClose) {
  started s;
  std::string wire;
  for (int i = 0; i < 65; ++i)
    wire += option_request(option::list);
  s.hs.feed(bytes_of(wire));
  EXPECT_EQ(s.hs.state(), handshake_state::closing);
  EXPECT_NE(s.hs.close_reason().find("64"), std::string::npos);
}

TEST(NbdHandshake, StopsConsumingAtTheEndOfNegotiation) {
  started s;
  const std::string wire = option_request(option::go, go_data("alpha", {})) + "REQUEST";
  EXPECT_EQ(s.hs.feed(bytes_of(wire)), wire.size() - 7);
  EXPECT_EQ(s.hs.feed(bytes_of(std::string("more"))), 0u);
}

TEST(NbdHandshake, ByteAtATimeMatchesAllAtOnce) {
  const std::string wire = client_flags(flag_c_fixed_newstyle) +
                           option_request(option::structured_reply) + option_request(option::list) +
                           option_request(77, "xyz") +
                           option_request(option::info, go_data("beta", {3})) +
                           option_request(option::go, go_data("alpha", {3}));
  handshake whole(two_exports());
  whole.feed(bytes_of(wire));
  handshake trickle(two_exports());
  std::string trickled;
  for (char c : wire) {
    trickle.feed(bytes_of(std::string(1, c)));
    trickled += trickle.take_output();
  }
  EXPECT_EQ(trickled, whole.take_output());
  EXPECT_EQ(trickle.state(), handshake_state::transmission);
  EXPECT_EQ(whole.state(), handshake_state::transmission);
}

TEST(NbdHandshake, GarbageNeverEscapesTheStateMachine) {
  std::mt19937 random(12345);  // mt19937 is the same everywhere; failures name the round
  for (int round = 0; round < 2000; ++round) {
    std::string wire = client_flags(random() % 4);
    const size_t n = random() % 200;
    for (size_t i = 0; i < n; ++i)
      wire.push_back(static_cast<char>(random()));
    if (round % 2 == 0)  // half the rounds start with a valid-looking option header
      wire.insert(4, option_request(random() % 12, std::string(random() % 40, 'q')));
    handshake hs(two_exports());
    const size_t used = hs.feed(bytes_of(wire));
    EXPECT_LE(used, wire.size()) << "round " << round;
    EXPECT_LT(hs.take_output().size(), 100000u) << "round " << round;
  }
}

}  // namespace
}  // namespace vcube::esan::nbd
