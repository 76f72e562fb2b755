// The KVM probe against the real qemu-system-x86_64 and /dev/kvm.
// Skips without QEMU, and the KVM tests skip without /dev/kvm.
//
// What KVM should do here: VCUBE_KVM_EXPECTED=works|broken says so; without
// it, a host running the PVM module (kvm_pvm, a nested KVM that cannot boot
// Linux guests) is expected broken, and elsewhere only consistency is checked.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "env/files.h"
#include "env/process.h"
#include "qemu/accel_probe.h"
#include "qemu/accel_probe_cache.h"
#include "qemu/accel_probe_payload.h"
#include "qemu/accel_probe_run.h"

namespace vcube::qemu {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr const char* qemu = "qemu-system-x86_64";
constexpr milliseconds tcg_deadline{30000};  // a loaded 2-core machine

bool has_qemu() {
  auto r = env::run({qemu, "--version"});
  return r && r->exit_code == 0;
}

std::string expected_kvm() {
  if (const char* e = getenv("VCUBE_KVM_EXPECTED"))
    return e;
  return fs::exists("/sys/module/kvm_pvm") ? "broken" : "";
}

class accel_probe_qemu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_qemu())
      GTEST_SKIP() << qemu << " is not installed";
    dir_ = fs::temp_directory_path() / ("vcube-accel-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    options_.cache_file = (dir_ / "accel-probe.json").string();
  }
  void TearDown() override {
    if (!dir_.empty())
      fs::remove_all(dir_);
  }
  void require_kvm() {
    if (!fs::exists(options_.kvm_device))
      GTEST_SKIP() << options_.kvm_device << " is missing: no KVM to probe";
  }
  fs::path dir_;
  accel_probe_options options_;
};

TEST_F(accel_probe_qemu, payload_runs_to_its_end_under_tcg) {
  auto path = (dir_ / "payload.bin").string();
  ASSERT_TRUE(env::write_file_atomic(path, accel_probe_payload()));
  auto run = run_accel_probe_guest(accel_probe_command(qemu, "tcg", "max", path), tcg_deadline);
  ASSERT_TRUE(run) << run.err().message;
  EXPECT_EQ(run->serial, "plmcx\n") << run->stderr_text;
  EXPECT_EQ(run->exit_code, accel_probe_exit_success);
  EXPECT_EQ(accel_probe_failure(*run, tcg_deadline), "");
}

TEST_F(accel_probe_qemu, kvm_verdict_is_cached_and_decides_auto) {
  require_kvm();
  if (IsSkipped())
    return;
  auto probe = probe_acceleration(options_);
  ASSERT_TRUE(probe) << probe.err().message;
  EXPECT_TRUE(probe->kvm_present);
  EXPECT_EQ(probe->kvm_usable, probe->reason.empty()) << probe->reason;
  EXPECT_LT(probe->probe_duration_ms, options_.deadline.count() + 1000);
  auto expected = expected_kvm();
  if (expected == "broken") {
    EXPECT_FALSE(probe->kvm_usable);
    auto choice = choose_acceleration("auto", options_);
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice->acceleration, "tcg");
    EXPECT_NE(choice->warning.find(probe->reason), std::string::npos) << choice->warning;
    auto forced = choose_acceleration("kvm", options_);
    ASSERT_FALSE(forced);
    EXPECT_EQ(forced.err().code, errc::conflict);
  } else if (expected == "works") {
    EXPECT_TRUE(probe->kvm_usable) << probe->reason;
    EXPECT_EQ(choose_acceleration("auto", options_)->acceleration, "kvm");
  }
  std::cout << "kvm probe: usable=" << probe->kvm_usable << " in " << probe->probe_duration_ms
            << " ms; reason: " << probe->reason << "\n";
  auto cached = read_accel_probe_cache(options_.cache_file);
  ASSERT_TRUE(cached) << cached.err().message;
  EXPECT_EQ(cached->reason, probe->reason);
  auto again = probe_acceleration(options_);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->probe_duration_ms, probe->probe_duration_ms);  // from the cache
}

TEST_F(accel_probe_qemu, stale_cache_probes_again) {
  require_kvm();
  if (IsSkipped())
    return;
  accel_probe_result stale{true, true, "", "0.0.0-old", "QEMU 0.1", 1};
  ASSERT_TRUE(write_accel_probe_cache(options_.cache_file, stale));
  auto probe = probe_acceleration(options_);
  ASSERT_TRUE(probe) << probe.err().message;
  EXPECT_NE(probe->kernel_release, "0.0.0-old");
  EXPECT_NE(probe->qemu_version, "QEMU 0.1");
}

// On PVM the generic CPU model gets past QEMU's set-up and the guest itself
// fails: the instruction the Linux guest died on here (lock cmpxchg16b).
TEST_F(accel_probe_qemu, pvm_fails_the_guest_on_cmpxchg16b) {
  require_kvm();
  if (IsSkipped())
    return;
  if (!fs::exists("/sys/module/kvm_pvm"))
    GTEST_SKIP() << "not a PVM host";
  options_.cpu_model = "qemu64";
  auto probe = probe_acceleration(options_);
  ASSERT_TRUE(probe) << probe.err().message;
  EXPECT_FALSE(probe->kvm_usable);
  EXPECT_NE(probe->reason.find("KVM internal error"), std::string::npos) << probe->reason;
  EXPECT_NE(probe->reason.find("cmpxchg16b"), std::string::npos) << probe->reason;
  EXPECT_LT(probe->probe_duration_ms, 3000);  // stopped at the error, not at the deadline
}

}  // namespace
}  // namespace vcube::qemu
