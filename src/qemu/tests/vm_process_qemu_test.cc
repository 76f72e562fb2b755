// vm_process against a real qemu-system-x86_64 (TCG) booting the test guest
// (scripts/build-guest build/guest). Skips when either is missing.
// Each test boots one guest: about 5-20 s each on a loaded 2-core machine.
#include "qemu/vm_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "env/process.h"
#include "qemu/command_line.h"
#include "qemu/tests/run_coroutine.h"

namespace vcube::qemu {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using testing::run_coroutine;

constexpr seconds boot_limit{120};  // TCG on a busy machine is slow
constexpr seconds command_limit{10};

std::string guest_dir() {
  if (const char* dir = getenv("VCUBE_GUEST_DIR"))
    return dir;
  return VCUBE_SOURCE_DIR "/build/guest";
}

bool has_program(const std::string& name) {
  auto found = env::run({"sh", "-c", "command -v " + name});
  return found && found->exit_code == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

qmp_clock::time_point in(seconds limit) {
  return qmp_clock::now() + limit;
}

class vm_process_qemu_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string guest = guest_dir();
    if (!has_program("qemu-system-x86_64") || !has_program("qemu-img"))
      GTEST_SKIP() << "qemu-system-x86_64 or qemu-img is not installed";
    if (!fs::exists(guest + "/vmlinux") || !fs::exists(guest + "/initrd.img"))
      GTEST_SKIP() << "no test guest in " << guest
                   << " (run scripts/build-guest build/guest, or set VCUBE_GUEST_DIR)";
    char dir_template[] = "/tmp/vcube-vm-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    work_ = dir_template;
    auto made =
        env::run_checked({"qemu-img", "create", "-q", "-f", "raw", work_ + "/disk.raw", "8M"});
    ASSERT_TRUE(made.ok()) << made.err().message;
    vm_ = definition(guest);
  }

  // Kills whatever QEMU the run directory names, then removes the temp dir.
  void TearDown() override {
    process_.reset();
    if (work_.empty())
      return;
    const run_paths paths = run_paths_in(vm_.run_dir);
    std::string pid_text = read_text(paths.pid_file);
    int pid = atoi(pid_text.c_str());
    if (is_qemu_alive(pid, paths.pid_file)) {
      kill(pid, SIGKILL);
      wait_for([&] { return !is_qemu_alive(pid, paths.pid_file); }, seconds(10));
    }
    fs::remove_all(work_);
  }

  vm_definition definition(const std::string& guest) const {
    vm_definition vm;
    vm.name = "vm-test";
    vm.uuid = "5b1f4c3e-9d7a-4e21-8c55-0a1b2c3d4e5f";
    vm.memory_mib = 256;
    vm.acceleration = "tcg";
    // writeback, not the default none: O_DIRECT fails where /tmp is a tmpfs.
    vm.disks.push_back(
        disk_definition{work_ + "/disk.raw", "raw", "virtio-blk", "writeback", false, 0});
    vm.kernel = kernel_boot{guest + "/vmlinux", guest + "/initrd.img",
                            "console=ttyS0 quiet panic=-1 mitigations=off vcube.hostname=vm-test"};
    vm.run_dir = work_ + "/run";
    return vm;
  }

  // Runs the io_context until `condition` holds or `limit` passes.
  bool wait_for(const std::function<bool()>& condition, seconds limit) {
    const auto deadline = qmp_clock::now() + limit;
    io_.restart();
    while (!condition()) {
      if (qmp_clock::now() >= deadline)
        return false;
      io_.run_one_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  std::string serial() const { return read_text(run_paths_in(vm_.run_dir).serial_log); }

  // The boot count so far: heartbeat seq=1 appears once per boot.
  bool wait_for_heartbeat(size_t boot, int seq) {
    const std::string first = "vcube-heartbeat seq=1 ";
    const std::string wanted = "vcube-heartbeat seq=" + std::to_string(seq) + " ";
    return wait_for(
        [&] {
          std::string text = serial();
          size_t at = std::string::npos;
          for (size_t n = 0, from = 0; n < boot; ++n, from = at + 1) {
            at = text.find(first, from);
            if (at == std::string::npos)
              return false;
          }
          return text.find(wanted, at) != std::string::npos;
        },
        boot_limit);
  }

  void start() {
    const auto started = qmp_clock::now();
    auto vm = run_coroutine(io_, vm_process::start(vm_, in(seconds(30))));
    ASSERT_TRUE(vm.ok()) << vm.err().message;
    process_ = std::move(*vm);
    process_->set_on_change([this](vm_run_state state, const std::string& reason) {
      changes_.push_back(std::string(vm_run_state_name(state)) + " " + reason);
    });
    std::cerr
        << "QEMU started and QMP connected in "
        << std::chrono::duration_cast<std::chrono::milliseconds>(qmp_clock::now() - started).count()
        << " ms\n";
  }

  void expect_ok(awaitable<status> action, const char* what) {
    auto done = run_coroutine(io_, std::move(action));
    EXPECT_TRUE(done.ok()) << what << ": " << done.err().message;
  }

  asio::io_context io_;
  std::string work_;
  vm_definition vm_;
  std::unique_ptr<vm_process> process_;
  std::vector<std::string> changes_;  // "state reason", from set_on_change
};

TEST_F(vm_process_qemu_test, boots_resets_and_powers_down_on_the_acpi_button) {
  start();
  ASSERT_TRUE(process_);
  ASSERT_TRUE(wait_for_heartbeat(1, 1)) << "no heartbeat; serial log:\n" << serial();
  auto status = run_coroutine(io_, process_->query_status(in(command_limit)));
  ASSERT_TRUE(status.ok()) << status.err().message;
  EXPECT_EQ(*status, "running");
  EXPECT_EQ(process_->state(), vm_run_state::running);

  expect_ok(process_->reset(in(command_limit)), "system_reset");
  // The power button is ignored until acpid runs; seq=5 is well past that.
  ASSERT_TRUE(wait_for_heartbeat(2, 5)) << "no second boot after reset:\n" << serial();
  EXPECT_EQ(count_of(serial(), "vcube-heartbeat seq=1 "), 2u);

  expect_ok(process_->powerdown(in(command_limit)), "system_powerdown");
  expect_ok(process_->wait_until_gone(in(seconds(60))), "QEMU exit after the power button");
  EXPECT_EQ(process_->state(), vm_run_state::stopped);
  EXPECT_EQ(process_->reason(), "guest-shutdown");
  EXPECT_NE(serial().find("vcube-power-button"), std::string::npos);
  EXPECT_EQ(changes_,
            (std::vector<std::string>{"shutting_down guest-shutdown", "stopped guest-shutdown"}));
}

TEST_F(vm_process_qemu_test, killed_qemu_is_crashed) {
  start();
  ASSERT_TRUE(process_);
  ASSERT_EQ(kill(process_->pid(), SIGKILL), 0);
  // Pushed without anyone asking: QMP's EOF and the pid check.
  EXPECT_TRUE(wait_for([&] { return !changes_.empty(); }, seconds(30)));
  EXPECT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_.front().rfind("crashed ", 0), 0u) << changes_.front();
  expect_ok(process_->wait_until_gone(in(seconds(30))), "QEMU gone after SIGKILL");
  EXPECT_EQ(process_->state(), vm_run_state::crashed) << process_->reason();
  auto status = run_coroutine(io_, process_->query_status(in(command_limit)));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.err().code, errc::unavailable) << status.err().message;
}

TEST_F(vm_process_qemu_test, attaches_after_the_client_went_away_and_quits) {
  start();
  ASSERT_TRUE(process_);
  const int pid = process_->pid();
  // QEMU serves one QMP client at a time: a second one gets no greeting.
  auto second = run_coroutine(io_, vm_process::attach(vm_.run_dir, in(seconds(1))));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.err().code, errc::timeout) << second.err().message;
  process_.reset();  // as if vcubed restarted: QEMU keeps running
  ASSERT_TRUE(wait_for_heartbeat(1, 1)) << "no heartbeat; serial log:\n" << serial();

  auto attached = run_coroutine(io_, vm_process::attach(vm_.run_dir, in(command_limit)));
  ASSERT_TRUE(attached.ok()) << attached.err().message;
  process_ = std::move(*attached);
  EXPECT_EQ(process_->pid(), pid);
  EXPECT_EQ(process_->state(), vm_run_state::running);

  expect_ok(process_->pause(in(command_limit)), "stop");
  EXPECT_TRUE(wait_for([&] { return process_->state() == vm_run_state::paused; }, seconds(10)));
  expect_ok(process_->resume(in(command_limit)), "cont");
  EXPECT_TRUE(wait_for([&] { return process_->state() == vm_run_state::running; }, seconds(10)));

  auto version =
      run_coroutine(io_, process_->execute("query-version", json::object(), in(command_limit)));
  ASSERT_TRUE(version.ok()) << version.err().message;
  EXPECT_TRUE((*version)["qemu"]["major"].is_number_integer()) << version->dump();
  expect_ok(process_->power_off(in(command_limit)), "quit");
  expect_ok(process_->wait_until_gone(in(seconds(30))), "QEMU exit after quit");
  EXPECT_EQ(process_->state(), vm_run_state::stopped);
  EXPECT_EQ(process_->reason(), "host-qmp-quit");
}

TEST_F(vm_process_qemu_test, a_second_start_in_the_same_run_dir_is_refused) {
  start();
  ASSERT_TRUE(process_);
  auto again = run_coroutine(io_, vm_process::start(vm_, in(seconds(30))));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.err().code, errc::conflict) << again.err().message;
}

TEST_F(vm_process_qemu_test, qemu_refusing_to_start_reports_its_stderr) {
  vm_.kernel->kernel_path = work_ + "/no-such-kernel";
  auto vm = run_coroutine(io_, vm_process::start(vm_, in(seconds(30))));
  ASSERT_FALSE(vm.ok());
  EXPECT_EQ(vm.err().code, errc::internal);
  EXPECT_NE(vm.err().message.find("no-such-kernel"), std::string::npos) << vm.err().message;
}

}  // namespace
}  // namespace vcube::qemu
