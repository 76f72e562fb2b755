// Seeded random fault schedules. ctest runs 2,000 seeds in two shards (so
// `ctest -j2` uses both cores); HA_SIM_SEEDS=N runs N seeds per shard.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/sim/random_schedule.h"

namespace vcube::sim {
namespace {

uint64_t seeds_per_shard() {
  const char* text = std::getenv("HA_SIM_SEEDS");
  return text == nullptr ? 1000 : std::strtoull(text, nullptr, 10);
}

void run_shard(uint64_t shard) {
  uint64_t count = seeds_per_shard();
  for (uint64_t seed = 1 + shard * count; seed <= (shard + 1) * count; ++seed) {
    run_result r = run_scenario(random_scenario(seed), false, seed);
    ASSERT_TRUE(r.problems.empty())
        << "seed " << seed << ": " << r.problems.front() << "\nreplay: ha_sim --seed " << seed;
  }
}

TEST(random_schedules, shard_0) {
  run_shard(0);
}
TEST(random_schedules, shard_1) {
  run_shard(1);
}

}  // namespace
}  // namespace vcube::sim
