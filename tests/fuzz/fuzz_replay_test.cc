// Runs the fuzz target over the committed corpus in every build (GCC too), so
// the inputs that once mattered keep being checked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// FUZZ_CORPUS_DIR: the corpus of the target this binary is linked with;
// FUZZ_SUITE names the test after it.
TEST(FUZZ_SUITE, EveryInputRunsCleanly) {
  const std::filesystem::path dir = FUZZ_CORPUS_DIR;
  size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++count;
  }
  EXPECT_GT(count, 0u) << "no corpus in " << dir;
}
