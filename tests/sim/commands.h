// The command language of scenario files and random schedules: one line per
// command ("crash n2", "partition n1,n2 | n3", ...), applied to a world.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/world.h"

namespace vcube::sim {

struct timed_command {
  int64_t at_ms = 0;
  std::string text;
};

// Applies one command; returns "" or why it is not understood.
std::string apply_command(world& w, const std::string& text);

// Runs `commands` (sorted by time) until end_ms, stopping at the first
// violation. Returns the violations.
std::vector<std::string> run_commands(world& w, const std::vector<timed_command>& commands,
                                      int64_t end_ms);

// End-of-run checks after a quiet period: every HA VM that can be placed runs,
// unwanted ones run nowhere, preferences are honoured where their node is able.
std::vector<std::string> check_settled(const world& w);

}  // namespace vcube::sim
