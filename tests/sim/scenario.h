// Scenario files (tests/sim/scenarios/*.txt): a cluster, timed commands and
// the expected event log (golden). Format in tests/sim/README.md.
#pragma once

#include <string>
#include <vector>

#include "tests/sim/commands.h"
#include "tests/sim/world.h"

namespace vcube::sim {

struct scenario {
  std::vector<node_def> nodes;
  std::vector<vm_def> vms;
  timing timings;
  std::vector<timed_command> commands;
  int64_t end_ms = 0;
  bool is_settled_end = false;  // "end T settled": the end-of-run checks apply
  std::vector<std::string> expected_log;
};

// Parses a scenario; on a syntax error returns false and sets `error`.
bool parse_scenario(const std::string& text, scenario& out, std::string& error);
// The scenario text without its expected log (what a random run prints to replay).
std::string scenario_header(const scenario& s);

struct run_result {
  std::vector<std::string> log;
  std::vector<std::string> problems;  // invariant violations, then end-of-run checks
};

// Runs it; problems are also appended to the log as "VIOLATION: ..." lines.
run_result run_scenario(const scenario& s, bool is_logging, uint64_t seed = 1);

}  // namespace vcube::sim
