// How many automatic restarts a VM may have: restart_max within
// restart_window_ms, then it is left in error for an administrator.
#pragma once

#include <cstdint>
#include <vector>

#include "ha/core.h"

namespace vcube::ha {

// The restarts still inside the window ending at now_ms. A time in the future
// (the clock went back) counts as now, so it ages out normally instead of
// staying in the window forever.
std::vector<int64_t> restarts_in_window(const std::vector<int64_t>& restarts_ms, int64_t now_ms,
                                        int64_t window_ms);

// Whether one more restart stays within the limit, given the restarts in the window.
bool is_restart_allowed(const settings& settings, const std::vector<int64_t>& restarts_ms);

}  // namespace vcube::ha
