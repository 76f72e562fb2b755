// ha_sim: runs scenario files and seeded random fault schedules by hand.
//   ha_sim --seeds 100000 [--first 1]   a soak over many seeds
//   ha_sim --seed 42                    replay one seed with its log
//   ha_sim --scenario FILE [--update]   run (or regenerate) one scenario
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/sim/random_schedule.h"
#include "tests/sim/scenario.h"

namespace {

using namespace vcube::sim;

int replay_seed(uint64_t seed) {
  scenario s = random_scenario(seed);
  std::printf("%s", scenario_header(s).c_str());
  run_result r = run_scenario(s, true, seed);
  for (const std::string& line : r.log) {
    std::printf("%s\n", line.c_str());
  }
  return r.problems.empty() ? 0 : 1;
}

int soak(uint64_t first, uint64_t count) {
  int failures = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    run_result r = run_scenario(random_scenario(seed), false, seed);
    if (!r.problems.empty()) {
      ++failures;
      std::printf("seed %llu: %s\n  replay: ha_sim --seed %llu\n",
                  static_cast<unsigned long long>(seed), r.problems.front().c_str(),
                  static_cast<unsigned long long>(seed));
    }
  }
  std::printf("%llu seeds, %d failed\n", static_cast<unsigned long long>(count), failures);
  return failures == 0 ? 0 : 1;
}

int run_file(const std::string& path, bool is_update) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  scenario s;
  std::string error;
  if (!file || !parse_scenario(text.str(), s, error)) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), error.empty() ? "cannot read" : error.c_str());
    return 2;
  }
  run_result r = run_scenario(s, true);
  std::string body = text.str().substr(0, text.str().find("\n---"));
  std::ostringstream out;
  out << body << "\n--- expected log\n";
  for (const std::string& line : r.log) {
    out << line << "\n";
  }
  if (is_update) {
    std::ofstream(path) << out.str();
  } else {
    std::printf("%s", out.str().c_str());
  }
  return r.problems.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t first = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--first") == 0 && i + 1 < argc) {
      first = std::strtoull(argv[++i], nullptr, 10);
    }
  }
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0) {
      return replay_seed(std::strtoull(argv[i + 1], nullptr, 10));
    }
    if (std::strcmp(argv[i], "--seeds") == 0) {
      return soak(first, std::strtoull(argv[i + 1], nullptr, 10));
    }
    if (std::strcmp(argv[i], "--scenario") == 0) {
      bool is_update = i + 2 < argc && std::strcmp(argv[i + 2], "--update") == 0;
      return run_file(argv[i + 1], is_update);
    }
  }
  std::fprintf(stderr,
               "usage: ha_sim --seeds N [--first S] | --seed S | --scenario FILE [--update]\n");
  return 2;
}
