#include "esan/nbd_request.h"

#include <gtest/gtest.h>

#include <random>

#include "esan/tests/nbd_test_client.h"

namespace vcube::esan::nbd {
namespace {

using namespace testing;

session make_session(bool has_block_sizes = true, bool is_read_only = false,
                     bool has_structured = false) {
  session s;
  s.exported = export_description{"disk", 1 << 20, is_read_only, 512, 4096, 32 << 20};
  s.has_block_sizes = has_block_sizes;
  s.has_structured_replies = has_structured;
  s.transmission_flags = transmission_flags_for(s.exported, has_structured);
  return s;
}

parsed_request parse(const request& r, const session& s = make_session()) {
  return parse_request(bytes_of(encode_request(r)), s);
}

request make(command type, uint64_t offset, uint32_t length, uint16_t flags = 0) {
  return request{type, flags, 0x1122334455667788ULL, offset, length};
}

TEST(NbdRequest, ValidRequestsRoundTrip) {
  for (auto type : {command::read, command::write, command::trim, command::write_zeroes}) {
    const auto p = parse(make(type, 4096, 8192, cmd_flag_fua));
    ASSERT_EQ(p.what, verdict::execute) << p.reason;
    EXPECT_EQ(p.req.type, type);
    EXPECT_EQ(p.req.cookie, 0x1122334455667788ULL);
    EXPECT_EQ(p.req.offset, 4096u);
    EXPECT_EQ(p.req.length, 8192u);
    EXPECT_TRUE(p.req.is_fua());
  }
  EXPECT_EQ(parse(make(command::flush, 0, 0)).what, verdict::execute);
  EXPECT_EQ(parse(make(command::read, (1 << 20) - 512, 512)).what, verdict::execute);
  EXPECT_EQ(parse(make(command::write_zeroes, 0, 512, cmd_flag_no_hole)).what, verdict::execute);
}

TEST(NbdRequest, BadMagicCloses) {
  std::string wire = encode_request(make(command::read, 0, 512));
  wire[3] ^= 1;
  EXPECT_EQ(parse_request(bytes_of(wire), make_session()).what, verdict::close);
}

TEST(NbdRequest, DiscDisconnects) {
  EXPECT_EQ(parse(make(command::disc, 0, 0)).what, verdict::disconnect);
}

TEST(NbdRequest, UnknownCommandsAreEinval) {
  for (uint16_t type : {5, 7, 8, 9, 0xffff}) {
    const auto p = parse(make(static_cast<command>(type), 0, 512));
    EXPECT_EQ(p.what, verdict::reply_error);
    EXPECT_EQ(p.error, error_code::einval);
    EXPECT_EQ(p.discard_bytes, 0u);
  }
}

TEST(NbdRequest, UnknownFlagsAreEinval) {
  EXPECT_EQ(parse(make(command::read, 0, 512, 1 << 9)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::read, 0, 512, cmd_flag_df)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::write, 0, 512, cmd_flag_no_hole)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::write_zeroes, 0, 512, cmd_flag_fast_zero)).error,
            error_code::einval);
  EXPECT_EQ(parse(make(command::read, 0, 512, cmd_flag_df), make_session(true, false, true)).what,
            verdict::execute);
}

TEST(NbdRequest, RejectedWriteDiscardsItsPayload) {
  const auto p = parse(make(command::write, 0, 1000, 1 << 12));
  EXPECT_EQ(p.what, verdict::reply_error);
  EXPECT_EQ(p.discard_bytes, 1000u);
}

TEST(NbdRequest, OutOfBounds) {
  EXPECT_EQ(parse(make(command::read, 1 << 20, 512)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::trim, (1 << 20) - 512, 1024)).error, error_code::einval);
  const auto w = parse(make(command::write, (1 << 20) - 512, 1024));
  EXPECT_EQ(w.error, error_code::enospc);
  EXPECT_EQ(w.discard_bytes, 1024u);
  // offset + length overflows 64 bits
  EXPECT_EQ(parse(make(command::read, ~0ULL - 511, 1024)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::write_zeroes, 0, 0xfffffe00)).error, error_code::einval);
}

TEST(NbdRequest, LengthLimits) {
  session s = make_session();
  s.exported.size_bytes = 1ULL << 40;
  const auto big_read = parse(make(command::read, 0, (32 << 20) + 512), s);
  EXPECT_EQ(big_read.error, error_code::einval);
  EXPECT_EQ(parse(make(command::read, 0, 32 << 20), s).what, verdict::execute);
  EXPECT_EQ(parse(make(command::write, 0, (32 << 20) + 512), s).what, verdict::close);
  EXPECT_EQ(parse(make(command::trim, 0, 0xfffffe00), s).what, verdict::execute);
}

TEST(NbdRequest, AlignmentOnlyWhenBlockSizesWereNegotiated) {
  EXPECT_EQ(parse(make(command::read, 1, 512)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::read, 0, 100)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::write, 0, 100)).discard_bytes, 100u);
  EXPECT_EQ(parse(make(command::read, 1, 100), make_session(false)).what, verdict::execute);
}

TEST(NbdRequest, FlushMustHaveNoRange) {
  EXPECT_EQ(parse(make(command::flush, 512, 0)).error, error_code::einval);
  EXPECT_EQ(parse(make(command::flush, 0, 512)).error, error_code::einval);
}

TEST(NbdRequest, ReadOnlyRefusesWrites) {
  const session ro = make_session(true, true);
  EXPECT_EQ(parse(make(command::write, 0, 512), ro).error, error_code::eperm);
  EXPECT_EQ(parse(make(command::trim, 0, 512), ro).error, error_code::eperm);
  EXPECT_EQ(parse(make(command::write_zeroes, 0, 512), ro).error, error_code::eperm);
  EXPECT_EQ(parse(make(command::read, 0, 512), ro).what, verdict::execute);
}

TEST(NbdRequest, SimpleReplies) {
  const std::string ok = encode_reply(make_session(), 7, error_code::none);
  ASSERT_EQ(ok.size(), simple_reply_header_bytes);
  EXPECT_EQ(get_u32(bytes_of(ok), 0), magic_simple_reply);
  EXPECT_EQ(get_u32(bytes_of(ok), 4), 0u);
  EXPECT_EQ(get_u64(bytes_of(ok), 8), 7u);
  const std::string bad = encode_reply(make_session(), 7, error_code::enospc, "ignored");
  EXPECT_EQ(get_u32(bytes_of(bad), 4), 28u);
  EXPECT_EQ(bad.size(), simple_reply_header_bytes);
  EXPECT_EQ(encode_read_reply_header(make_session(), 7, 0, 512), ok);
}

TEST(NbdRequest, StructuredReplies) {
  const session s = make_session(true, false, true);
  const std::string err = encode_reply(s, 9, error_code::einval, "why");
  ASSERT_EQ(err.size(), structured_reply_header_bytes + 6 + 3);
  EXPECT_EQ(get_u32(bytes_of(err), 0), magic_structured_reply);
  EXPECT_EQ(get_u16(bytes_of(err), 4), reply_flag_done);
  EXPECT_EQ(get_u16(bytes_of(err), 6), static_cast<uint16_t>(chunk_type::error));
  EXPECT_EQ(get_u32(bytes_of(err), 16), 9u);
  EXPECT_EQ(get_u32(bytes_of(err), 20), 22u);
  EXPECT_EQ(err.substr(26), "why");
  const std::string data = encode_read_reply_header(s, 9, 4096, 512);
  ASSERT_EQ(data.size(), structured_reply_header_bytes + 8);
  EXPECT_EQ(get_u16(bytes_of(data), 6), static_cast<uint16_t>(chunk_type::offset_data));
  EXPECT_EQ(get_u32(bytes_of(data), 16), 520u);
  EXPECT_EQ(get_u64(bytes_of(data), 20), 4096u);
  // success without data stays a simple reply, which the spec allows
  EXPECT_EQ(get_u32(bytes_of(encode_reply(s, 1, error_code::none)), 0), magic_simple_reply);
}

TEST(NbdRequest, GarbageHeadersNeverExecuteOutOfBounds) {
  std::mt19937 random(777);
  const session s = make_session();
  for (int round = 0; round < 100000; ++round) {
    std::string wire =
        encode_request(make(static_cast<command>(random() % 10), random() % (2 << 20),
                            random() % (3 << 20), static_cast<uint16_t>(random() % 64)));
    if (round % 3 == 0)
      wire[random() % wire.size()] = static_cast<char>(random());
    const auto p = parse_request(bytes_of(wire), s);
    if (p.what != verdict::execute)
      continue;
    EXPECT_LE(p.req.offset + p.req.length, s.exported.size_bytes) << "round " << round;
    EXPECT_EQ(p.req.offset % 512, 0u) << "round " << round;
    EXPECT_LE(p.req.length, s.exported.payload_bytes_max) << "round " << round;
  }
}

}  // namespace
}  // namespace vcube::esan::nbd
