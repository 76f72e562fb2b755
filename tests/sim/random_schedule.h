// Seeded random fault schedules: a random cluster, faults for fault_s
// seconds, then a quiet period (everything healed, powered and able) after
// which the end-of-run checks apply. The same seed gives the same scenario.
#pragma once

#include <cstdint>

#include "tests/sim/scenario.h"

namespace vcube::sim {

inline constexpr int64_t random_fault_ms = 120'000;
inline constexpr int64_t random_quiet_ms = 300'000;

scenario random_scenario(uint64_t seed);

}  // namespace vcube::sim
