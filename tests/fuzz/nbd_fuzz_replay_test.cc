// Runs the fuzz target over the committed corpus in every build (GCC too), so
// the inputs that once mattered keep being checked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST(NbdFuzzCorpus, EveryInputRunsCleanly) {
  const std::filesystem::path dir = VCUBE_SOURCE_DIR "/tests/fuzz/corpus/nbd";
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
