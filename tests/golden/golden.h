// Golden-file comparison for unit tests: `text` must equal the file at
// `path`; with VCUBE_UPDATE_GOLDEN set, the file is rewritten first (review
// the diff before committing it).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace vcube::testing {

inline void expect_matches_golden(const std::string& text, const std::string& path) {
  if (std::getenv("VCUBE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << text;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::ostringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(text, expected.str()) << "output differs from " << path
                                  << " (VCUBE_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace vcube::testing
