// HA_CHECK: a programmer-error assertion that stays on in release builds
// (plain assert() vanishes under NDEBUG). A broken precondition of the HA core
// means the caller fed it an impossible input or the core broke its own
// invariant; continuing could run a VM twice, so the process stops.
#pragma once

#include <cstdio>
#include <cstdlib>

#define HA_CHECK(condition)                                                                 \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: HA_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
