// Every scenario in tests/sim/scenarios: its event log must equal the expected
// one, and no invariant may break. HA_SIM_UPDATE=1 rewrites the expected logs
// (review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/sim/scenario.h"

namespace vcube::sim {
namespace {

std::filesystem::path scenario_dir() {
  return std::filesystem::path(VCUBE_SOURCE_DIR) / "tests/sim/scenarios";
}

class scenario_file : public ::testing::TestWithParam<std::string> {};

TEST_P(scenario_file, log_matches_and_invariants_hold) {
  std::filesystem::path path = scenario_dir() / GetParam();
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  scenario s;
  std::string error;
  ASSERT_TRUE(parse_scenario(text.str(), s, error)) << error;
  run_result r = run_scenario(s, true);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  if (std::getenv("HA_SIM_UPDATE") != nullptr) {
    std::ofstream out(path);
    out << text.str().substr(0, text.str().find("\n---")) << "\n--- expected log\n";
    for (const std::string& line : r.log) {
      out << line << "\n";
    }
    return;
  }
  ASSERT_FALSE(s.expected_log.empty()) << "no expected log: run with HA_SIM_UPDATE=1";
  std::ostringstream expected;
  std::ostringstream actual;
  for (const std::string& line : s.expected_log) {
    expected << line << "\n";
  }
  for (const std::string& line : r.log) {
    actual << line << "\n";
  }
  EXPECT_EQ(expected.str(), actual.str()) << "replay: ha_sim --scenario " << path.string();
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(scenario_dir())) {
    if (entry.path().extension() == ".txt") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(scenarios, scenario_file, ::testing::ValuesIn(scenario_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.substr(0, info.param.size() - 4);
                         });

}  // namespace
}  // namespace vcube::sim
