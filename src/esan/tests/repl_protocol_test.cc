#include "esan/repl_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace vcube::esan::repl {
namespace {

const volume_limits limits{1 << 20, 65536};

frame hello_frame() {
  hello h;
  h.volume = "vm1-disk0";
  h.size_bytes = 1 << 20;
  h.region_bytes = 65536;
  h.is_primary = true;
  h.is_consistent = true;
  h.gens = {9, 8, {7, 6}};
  return frame{frame_type::hello, 0, 1, h};
}

// Decodes `bytes` fed in pieces of `chunk` bytes; stops at the first error.
result<std::vector<frame>> decode_all(const std::string& bytes, size_t chunk,
                                      volume_limits l = limits) {
  frame_decoder d(l);
  std::vector<frame> out;
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    if (auto s = d.feed(std::string_view(bytes).substr(at, chunk)); !s)
      return s.err();
    while (true) {
      auto f = d.next();
      if (!f)
        return f.err();
      if (!*f)
        break;
      out.push_back(std::move(**f));
    }
  }
  return out;
}

TEST(repl_protocol, every_frame_round_trips_in_any_chunking) {
  std::vector<frame> frames = {
      hello_frame(),
      {frame_type::write, flag_fua, 2, data_block{4096, std::string(8192, 'a')}},
      {frame_type::write_ack, 0, 2, ack{0}},
      {frame_type::flush, 0, 3, empty{}},
      {frame_type::flush_ack, 0, 3, ack{5}},
      {frame_type::trim, 0, 4, extent{0, 65536}},
      {frame_type::write_zeroes, 0, 5, extent{512, 512}},
      {frame_type::bitmap, 0, 6, bitmap_part{0, std::string(8, '\xff')}},
      {frame_type::resync_data, 0, 7, data_block{65536, std::string(65536, 'r')}},
      {frame_type::resync_ack, 0, 7, ack{0}},
      {frame_type::ping, 0, 8, empty{}},
      {frame_type::pong, 0, 8, empty{}},
      {frame_type::goodbye, 0, 9, goodbye{"split brain: resolve it first"}},
      {frame_type::verify_request, 0, 10, extent{65536, 65536}},
      {frame_type::verify_reply, 0, 10, digest{65536, 65536, 0x0123456789abcdefULL}},
  };
  std::string bytes;
  for (const auto& f : frames)
    bytes += encode(f);
  for (size_t chunk : {size_t(1), size_t(7), size_t(20), size_t(4096), bytes.size()}) {
    auto got = decode_all(bytes, chunk);
    ASSERT_TRUE(got) << chunk << ": " << got.err().message;
    ASSERT_EQ(got->size(), frames.size()) << chunk;
    for (size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ((*got)[i].type, frames[i].type);
      EXPECT_EQ((*got)[i].seq, frames[i].seq);
      EXPECT_EQ((*got)[i].flags, frames[i].flags);
      EXPECT_EQ(encode((*got)[i]), encode(frames[i])) << to_string(frames[i].type);
    }
  }
  auto h = std::get<hello>(decode_all(encode(hello_frame()), 5)->at(0).body);
  EXPECT_EQ(h.volume, "vm1-disk0");
  EXPECT_EQ(h.gens, (generations{9, 8, {7, 6}}));
  EXPECT_TRUE(h.is_primary);
}

// Each hostile frame is refused with a reason, and the decoder stays failed.
TEST(repl_protocol, hostile_frames_are_refused) {
  auto with_header = [](uint32_t m, uint16_t type, uint16_t flags, uint32_t length) {
    frame f{frame_type::ping, 0, 0, empty{}};
    std::string b = encode(f);
    for (int i = 0; i < 4; ++i)
      b[i] = static_cast<char>((m >> (24 - 8 * i)) & 0xff);
    b[4] = static_cast<char>(type >> 8);
    b[5] = static_cast<char>(type & 0xff);
    b[6] = static_cast<char>(flags >> 8);
    b[7] = static_cast<char>(flags & 0xff);
    for (int i = 0; i < 4; ++i)
      b[16 + i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
    return b;
  };
  struct bad_case {
    const char* what;
    std::string bytes;
    volume_limits limits;
    const char* message;
  };
  frame old_hello = hello_frame();
  std::get<hello>(old_hello.body).version = 2;
  frame bad_name = hello_frame();
  std::get<hello>(bad_name.body).volume = "../etc";
  std::vector<bad_case> cases = {
      {"magic", with_header(0x12345678, 11, 0, 0), limits, "magic"},
      {"type", with_header(magic, 99, 0, 0), limits, "unknown frame type"},
      {"flags", with_header(magic, 11, 1, 0), limits, "flags"},
      {"huge payload", with_header(magic, 2, 0, 0xFFFFFFFF), limits, "payload"},
      {"ack length", with_header(magic, 3, 0, 5), limits, "payload"},
      {"version", encode(old_hello), limits, "protocol version"},
      {"name", encode(bad_name), limits, "volume name"},
      {"unaligned write", encode({frame_type::write, 0, 1, data_block{100, std::string(512, 'x')}}),
       limits, "aligned"},
      {"write past the end",
       encode({frame_type::write, 0, 1, data_block{(1 << 20) - 512, std::string(1024, 'x')}}),
       limits, "end of the volume"},
      {"write before hello",
       encode({frame_type::write, 0, 1, data_block{0, std::string(512, 'x')}}), volume_limits{},
       "before the hello"},
      {"zero trim", encode({frame_type::trim, 0, 1, extent{0, 0}}), limits, "aligned"},
      {"bitmap past the end", encode({frame_type::bitmap, 0, 1, bitmap_part{1, std::string(8, 0)}}),
       limits, "beyond the end"},
  };
  for (const auto& c : cases) {
    auto got = decode_all(c.bytes, 3, c.limits);
    ASSERT_FALSE(got) << c.what;
    EXPECT_EQ(got.err().code, errc::invalid_input) << c.what;
    EXPECT_NE(got.err().message.find(c.message), std::string::npos)
        << c.what << ": " << got.err().message;
  }
  // A bad header fails at once, before its (claimed) payload arrives.
  frame_decoder d(limits);
  EXPECT_FALSE(d.feed(with_header(magic, 2, 0, 0xFFFFFFFF)));
  EXPECT_FALSE(d.next());
  EXPECT_FALSE(d.feed(encode({frame_type::ping, 0, 0, empty{}})));  // stays failed
}

TEST(repl_protocol, a_data_prefix_and_its_data_are_the_whole_frame) {
  std::string data(4096, 'd');
  frame f{frame_type::write, flag_fua, 42, data_block{8192, data}};
  EXPECT_EQ(encode_data_prefix(frame_type::write, flag_fua, 42, 8192, data.size()) + data,
            encode(f));
}

// What recv writes into prepare()'s room decodes as fed bytes do, in any
// pieces, across the moves that make room again; the room always holds a
// maximal frame.
TEST(repl_protocol, receiving_in_place_decodes_like_feed) {
  std::vector<frame> frames;
  for (uint64_t i = 0; i < 12; ++i) {
    std::string data((i % 3 + 1) << 18, static_cast<char>('a' + i));
    frames.push_back({frame_type::write, 0, 2 * i, data_block{0, data}});
    frames.push_back({frame_type::write_ack, 0, 2 * i + 1, ack{0}});
  }
  std::string bytes;
  for (const auto& f : frames)
    bytes += encode(f);
  for (size_t piece : {size_t(1000), size_t(65536 + 7), size_t(1) << 20, bytes.size()}) {
    frame_decoder d(limits);
    std::vector<frame> got;
    for (size_t at = 0; at < bytes.size();) {
      std::span<char> room = d.prepare();
      ASSERT_GE(room.size(), header_bytes + 8 + data_bytes_max);
      size_t n = std::min({piece, room.size(), bytes.size() - at});
      std::copy_n(bytes.data() + at, n, room.data());
      at += n;
      ASSERT_TRUE(d.commit(n));
      for (auto f = d.next(); f && *f; f = d.next())
        got.push_back(std::move(**f));
    }
    ASSERT_EQ(got.size(), frames.size()) << piece;
    for (size_t i = 0; i < frames.size(); ++i)
      EXPECT_EQ(encode(got[i]), encode(frames[i])) << piece << " " << i;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(repl_protocol, buffering_is_bounded) {
  frame_decoder d(limits);
  std::string big = encode({frame_type::write, 0, 1, data_block{0, std::string(1 << 20, 'x')}});
  ASSERT_TRUE(d.feed(big));
  ASSERT_TRUE(d.feed(big));   // two whole frames not taken yet: still fine
  EXPECT_FALSE(d.feed(big));  // a third without taking any: refused
}

TEST(repl_protocol, verify_frames_are_checked) {
  frame_decoder d({1 << 20, 65536});
  ASSERT_TRUE(d.feed(encode({frame_type::verify_request, 0, 1, extent{1 << 20, 512}})));
  EXPECT_FALSE(d.next());  // beyond the end
  frame_decoder e({1 << 20, 65536});
  ASSERT_TRUE(e.feed(encode({frame_type::verify_reply, 0, 1, digest{100, 512, 1}})));
  EXPECT_FALSE(e.next());  // not aligned
  frame_decoder f({1 << 20, 65536});
  ASSERT_TRUE(f.feed(encode({frame_type::verify_request, flag_fua, 1, extent{0, 512}})).ok() ==
              false);  // FUA belongs to write only
}

TEST(repl_protocol, verify_hash_sees_every_byte) {
  std::string a(65536, 'x');
  const uint64_t h = verify_hash(a);
  EXPECT_EQ(h, verify_hash(a));
  for (size_t at : {size_t(0), size_t(4097), size_t(65535)}) {
    std::string b = a;
    b[at] = 'y';
    EXPECT_NE(verify_hash(b), h) << at;
  }
  EXPECT_NE(verify_hash(std::string(512, '\0')), verify_hash(std::string(1024, '\0')));
}

}  // namespace
}  // namespace vcube::esan::repl
