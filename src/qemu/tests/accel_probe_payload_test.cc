// The embedded probe payload is the assembled accel_probe_payload.S (needs
// GNU as and objcopy from binutils; skips without them).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "env/process.h"
#include "qemu/accel_probe_payload.h"

namespace vcube::qemu {
namespace {

namespace fs = std::filesystem;

TEST(accel_probe_payload, matches_its_assembly_source) {
  fs::path source = fs::path(VCUBE_SOURCE_DIR) / "src/qemu/accel_probe_payload.S";
  fs::path dir = fs::temp_directory_path() / ("vcube-payload-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto object = (dir / "p.o").string();
  auto binary = (dir / "p.bin").string();
  auto assembled = env::run({"as", "--64", "-o", object, source.string()});
  if (!assembled || assembled->exit_code == 127) {
    fs::remove_all(dir);
    GTEST_SKIP() << "GNU as is not available: cannot check the payload against its source";
  }
  ASSERT_EQ(assembled->exit_code, 0) << assembled->err;
  auto copied = env::run({"objcopy", "-O", "binary", "-j", ".text", object, binary});
  ASSERT_TRUE(copied);
  ASSERT_EQ(copied->exit_code, 0) << copied->err;
  std::ifstream in(binary, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  fs::remove_all(dir);
  EXPECT_TRUE(bytes.str() == accel_probe_payload())
      << "accel_probe_payload.cc is out of date with accel_probe_payload.S: regenerate it";
}

}  // namespace
}  // namespace vcube::qemu
