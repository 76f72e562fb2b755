// Wall-clock time as the cluster exchanges it: unix seconds (unix ms where
// the HA manager needs finer steps).
#pragma once

#include <chrono>
#include <cstdint>

namespace vcube {

inline int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vcube
