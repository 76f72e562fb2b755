// Seeded mutations of a real session fed in random chunks: the codec must
// never crash, and its bounds must hold. A failure names the seed.
#include <gtest/gtest.h>

#include <cstdint>

#include "qemu/qmp_codec.h"
#include "qemu/tests/qmp_fixtures.h"

namespace vcube::qemu {
namespace {

// splitmix64: our own generator, identical on every standard library.
struct splitmix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t bound) { return static_cast<size_t>(next() % bound); }
};

std::string mutate(std::string text, splitmix64& random) {
  const size_t mutations = 1 + random.below(8);
  for (size_t i = 0; i < mutations && !text.empty(); ++i) {
    const size_t at = random.below(text.size());
    switch (random.below(3)) {
      case 0:
        text[at] = static_cast<char>(random.below(256));
        break;
      case 1:
        text.erase(at, 1 + random.below(8));
        break;
      default:
        text.insert(at, text.substr(random.below(text.size()), random.below(16)));
        break;
    }
  }
  return text;
}

TEST(qmp_mutation, mutated_sessions_never_break_the_bounds) {
  const qmp_limits limits{.line_bytes_max = 256, .pending_commands_max = 4};
  const std::string transcript =
      testing::greeting_line + testing::capabilities_ok_line + testing::session_lines;
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    splitmix64 random{seed};
    const std::string bytes = mutate(transcript, random);
    qmp_codec codec(limits);
    for (size_t offset = 0; offset < bytes.size();) {
      const size_t chunk = 1 + random.below(64);
      codec.feed(std::string_view(bytes).substr(offset, chunk));
      offset += chunk;
      (void)codec.take_output();
      if (codec.state() == qmp_state::ready) {
        auto command = codec.encode_command("query-status");
        (void)command;
      }
      ASSERT_LE(codec.pending().size(), limits.pending_commands_max) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace vcube::qemu
