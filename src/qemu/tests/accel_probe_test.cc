// The pure parts of the KVM probe: the kvm|tcg|auto decision, the verdict on
// a probe run, the cache format; and the runner against stand-in programs.
#include <gtest/gtest.h>

#include <filesystem>

#include "qemu/accel_probe.h"
#include "qemu/accel_probe_cache.h"
#include "qemu/accel_probe_payload.h"
#include "qemu/accel_probe_run.h"

namespace vcube::qemu {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds deadline{5000};

accel_probe_result usable() {
  return {true, true, "", "6.1.0-56-amd64", "QEMU emulator version 7.2.22", 120};
}
accel_probe_result broken() {
  return {true, false, "QEMU died of signal 6 (Aborted)", "6.1.0", "QEMU 7.2", 60};
}
accel_probe_result absent() {
  return {false, false, "/dev/kvm is missing", "", "", 0};
}

TEST(resolve_acceleration, auto_uses_working_kvm_without_warning) {
  auto choice = resolve_acceleration("auto", usable());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->acceleration, "kvm");
  EXPECT_EQ(choice->warning, "");
}

TEST(resolve_acceleration, auto_falls_back_to_tcg_with_the_reason) {
  auto choice = resolve_acceleration("auto", broken());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->acceleration, "tcg");
  EXPECT_NE(choice->warning.find("does not work: QEMU died of signal 6"), std::string::npos)
      << choice->warning;
  EXPECT_NE(choice->warning.find("TCG"), std::string::npos);
}

TEST(resolve_acceleration, auto_without_kvm_device_is_tcg) {
  auto choice = resolve_acceleration("auto", absent());
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->acceleration, "tcg");
  EXPECT_NE(choice->warning.find("/dev/kvm is missing"), std::string::npos) << choice->warning;
}

TEST(resolve_acceleration, explicit_kvm_never_falls_back) {
  auto choice = resolve_acceleration("kvm", broken());
  ASSERT_FALSE(choice);
  EXPECT_EQ(choice.err().code, errc::conflict);
  EXPECT_EQ(choice.err().field, "acceleration");
  EXPECT_NE(choice.err().message.find("does not work: QEMU died"), std::string::npos);
  auto missing = resolve_acceleration("kvm", absent());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find("no KVM"), std::string::npos) << missing.err().message;
  auto working = resolve_acceleration("kvm", usable());
  ASSERT_TRUE(working);
  EXPECT_EQ(working->acceleration, "kvm");
}

TEST(resolve_acceleration, tcg_is_tcg_whatever_the_probe_says) {
  for (const auto& probe : {usable(), broken(), absent()}) {
    auto choice = resolve_acceleration("tcg", probe);
    ASSERT_TRUE(choice);
    EXPECT_EQ(choice->acceleration, "tcg");
    EXPECT_EQ(choice->warning, "");
  }
}

TEST(resolve_acceleration, unknown_value_names_the_field) {
  auto choice = resolve_acceleration("hvf", usable());
  ASSERT_FALSE(choice);
  EXPECT_EQ(choice.err().code, errc::invalid_input);
  EXPECT_EQ(choice.err().field, "acceleration");
}

accel_probe_run exited(int code, std::string serial, std::string err = {}) {
  accel_probe_run run;
  run.exit_code = code;
  run.serial = std::move(serial);
  run.stderr_text = std::move(err);
  return run;
}

TEST(accel_probe_failure, all_steps_and_the_exit_port_mean_usable) {
  EXPECT_EQ(accel_probe_failure(exited(accel_probe_exit_success, "plmcx\n"), deadline), "");
  // Without CX16 the cmpxchg16b step is skipped.
  EXPECT_EQ(accel_probe_failure(exited(accel_probe_exit_success, "plmx\n"), deadline), "");
}

TEST(accel_probe_failure, internal_error_names_the_step_and_quotes_qemu) {
  auto run = exited(-1, "plm",
                    "qemu-system-x86_64: warning: host doesn't support requested feature\n"
                    "KVM internal error. Suberror: 1\nextra data[0]: 0x1\nemulation failure\n"
                    "RAX=0000000000000000 RBX=0000000000000001\n");
  run.internal_error = true;
  EXPECT_EQ(accel_probe_failure(run, deadline),
            "the probe guest stopped with 'KVM internal error. Suberror: 1' (emulation "
            "failure) during step 'lock cmpxchg16b on RAM'");
}

TEST(accel_probe_failure, qemu_abort_quotes_its_error_not_its_warnings) {
  auto run = exited(-1, "",
                    "qemu-system-x86_64: warning: host doesn't support requested feature\n"
                    "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
                    "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: Assertion failed.\n");
  run.term_signal = 6;
  EXPECT_EQ(accel_probe_failure(run, deadline),
            "QEMU died of signal 6 (Aborted): qemu-system-x86_64: error: failed to set MSR 0x10a "
            "to 0x69");
}

TEST(accel_probe_failure, timeout_triple_fault_and_start_failure) {
  auto hung = exited(-1, "pl");
  hung.timed_out = true;
  EXPECT_EQ(accel_probe_failure(hung, milliseconds(3000)),
            "the probe guest did not finish within 3000 ms during step 'write 32 MiB of fresh "
            "memory'");
  EXPECT_EQ(accel_probe_failure(exited(0, "p"), deadline),
            "the probe guest reset (a triple fault) during step 'switch to long mode'");
  EXPECT_EQ(accel_probe_failure(exited(1, "",
                                       "Could not access KVM kernel module: Permission "
                                       "denied\nqemu-system-x86_64: failed to initialize "
                                       "kvm: Permission denied\n"),
                                deadline),
            "QEMU exited with status 1: Could not access KVM kernel module: Permission denied");
  EXPECT_EQ(accel_probe_failure(exited(accel_probe_exit_no_exception, "plmc"), deadline),
            "the probe guest's exception handler did not run (int3)");
  EXPECT_NE(accel_probe_failure(exited(accel_probe_exit_success, "pl"), deadline), "");
}

TEST(accel_probe_cache, round_trip_and_currency) {
  auto probe = broken();
  auto back = accel_probe_from_json(accel_probe_to_json(probe));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reason, probe.reason);
  EXPECT_EQ(back->kvm_usable, false);
  EXPECT_EQ(back->probe_duration_ms, 60);
  EXPECT_TRUE(is_accel_probe_current(*back, "6.1.0", "QEMU 7.2"));
  EXPECT_FALSE(is_accel_probe_current(*back, "6.1.0-57", "QEMU 7.2"));
  EXPECT_FALSE(is_accel_probe_current(*back, "6.1.0", "QEMU 8.0"));
}

TEST(accel_probe_cache, refuses_another_version_and_garbage) {
  auto j = accel_probe_to_json(usable());
  j["version"] = accel_probe_version + 1;
  EXPECT_FALSE(accel_probe_from_json(j));
  EXPECT_FALSE(accel_probe_from_json(json{{"version", accel_probe_version}}));
  auto path = std::filesystem::temp_directory_path() / "vcube-accel-cache-test.json";
  ASSERT_TRUE(write_accel_probe_cache(path.string(), usable()));
  auto read = read_accel_probe_cache(path.string());
  ASSERT_TRUE(read);
  EXPECT_TRUE(read->kvm_usable);
  std::filesystem::remove(path);
  auto gone = read_accel_probe_cache(path.string());
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.err().code, errc::not_found);
}

TEST(accel_probe_payload, is_a_64k_image_with_a_reset_vector) {
  auto image = accel_probe_payload();
  ASSERT_EQ(image.size(), 65536u);
  EXPECT_EQ(static_cast<unsigned char>(image[0xfff0]), 0xe9);  // jmp near
  EXPECT_EQ(static_cast<unsigned char>(image[0]), 0xfa);       // cli
}

TEST(accel_probe_command, matches_the_payload_contract) {
  auto argv = accel_probe_command("qemu", "kvm", "host", "/run/p.bin");
  std::string line;
  for (const auto& a : argv)
    line += a + " ";
  EXPECT_NE(line.find("-accel kvm -cpu host"), std::string::npos) << line;
  EXPECT_NE(line.find("-device isa-debug-exit,iobase=0xf4,iosize=4"), std::string::npos);
  EXPECT_NE(line.find("-serial stdio"), std::string::npos);
  EXPECT_NE(line.find("-no-reboot"), std::string::npos);
  EXPECT_NE(line.find("-bios /run/p.bin"), std::string::npos);
}

TEST(run_accel_probe_guest, kills_at_the_deadline) {
  auto run = run_accel_probe_guest({"sh", "-c", "printf pl; exec sleep 30"}, milliseconds(300));
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->timed_out);
  EXPECT_EQ(run->serial, "pl");
  EXPECT_LT(run->duration_ms, 5000);
}

TEST(run_accel_probe_guest, stops_soon_after_a_kvm_internal_error) {
  auto run = run_accel_probe_guest(
      {"sh", "-c",
       "printf plm; echo 'KVM internal error. Suberror: 1' >&2; echo 'emulation failure' >&2; "
       "exec sleep 30"},
      milliseconds(20000));
  ASSERT_TRUE(run);
  EXPECT_TRUE(run->internal_error);
  EXPECT_FALSE(run->timed_out);
  EXPECT_LT(run->duration_ms, 5000);
  EXPECT_NE(accel_probe_failure(*run, deadline).find("(emulation failure)"), std::string::npos);
}

TEST(run_accel_probe_guest, reports_exit_status_and_signal) {
  auto run = run_accel_probe_guest({"sh", "-c", "printf 'plmcx\\n'; exit 33"}, deadline);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->exit_code, 33);
  EXPECT_EQ(accel_probe_failure(*run, deadline), "");
  auto aborted = run_accel_probe_guest({"sh", "-c", "kill -ABRT $$"}, deadline);
  ASSERT_TRUE(aborted);
  EXPECT_EQ(aborted->term_signal, 6);
  auto missing = run_accel_probe_guest({"/nonexistent/qemu"}, deadline);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find("/nonexistent/qemu"), std::string::npos);
}

TEST(choose_acceleration, tcg_and_a_missing_device_need_no_qemu) {
  accel_probe_options options;
  options.qemu_binary = "/nonexistent/qemu";
  options.kvm_device = "/nonexistent/kvm";
  options.cache_file = "/nonexistent/cache.json";
  auto tcg = choose_acceleration("tcg", options);
  ASSERT_TRUE(tcg);
  EXPECT_EQ(tcg->acceleration, "tcg");
  auto fallback = choose_acceleration("auto", options);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->acceleration, "tcg");
  EXPECT_NE(fallback->warning.find("/nonexistent/kvm is missing"), std::string::npos);
  EXPECT_FALSE(choose_acceleration("kvm", options));
}

}  // namespace
}  // namespace vcube::qemu
