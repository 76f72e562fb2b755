#include "ha/restart_policy.h"

#include <algorithm>

namespace vcube::ha {

std::vector<int64_t> restarts_in_window(const std::vector<int64_t>& restarts_ms, int64_t now_ms,
                                        int64_t window_ms) {
  std::vector<int64_t> kept;
  for (int64_t t : restarts_ms) {
    t = std::min(t, now_ms);
    if (now_ms - t < window_ms) {
      kept.push_back(t);
    }
  }
  return kept;
}

bool is_restart_allowed(const settings& settings, const std::vector<int64_t>& restarts_ms) {
  return static_cast<int64_t>(restarts_ms.size()) < settings.restart_max;
}

}  // namespace vcube::ha
