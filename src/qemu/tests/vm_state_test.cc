#include "qemu/vm_state.h"

#include <gtest/gtest.h>

namespace vcube::qemu {
namespace {

qmp_event event(qmp_event_kind kind, std::string reason = {}) {
  qmp_event e;
  e.kind = kind;
  e.reason = std::move(reason);
  return e;
}

TEST(vm_state, starts_running_and_follows_stop_and_resume) {
  vm_state_tracker t;
  EXPECT_EQ(t.state(), vm_run_state::running);
  t.on_event(event(qmp_event_kind::stop));
  EXPECT_EQ(t.state(), vm_run_state::paused);
  t.on_event(event(qmp_event_kind::resume));
  EXPECT_EQ(t.state(), vm_run_state::running);
  EXPECT_EQ(t.reason(), "");
}

TEST(vm_state, shutdown_then_gone_is_stopped_with_the_event_reason) {
  vm_state_tracker t;
  t.on_event(event(qmp_event_kind::powerdown));
  EXPECT_EQ(t.state(), vm_run_state::running);
  t.on_event(event(qmp_event_kind::shutdown, "guest-shutdown"));
  EXPECT_EQ(t.state(), vm_run_state::shutting_down);
  // QEMU pauses the vCPUs on its way out; that is no "paused" VM.
  t.on_event(event(qmp_event_kind::stop));
  t.on_qemu_gone();
  EXPECT_EQ(t.state(), vm_run_state::stopped);
  EXPECT_EQ(t.reason(), "guest-shutdown");
}

TEST(vm_state, gone_without_shutdown_is_crashed) {
  vm_state_tracker t;
  t.on_qemu_gone();
  EXPECT_EQ(t.state(), vm_run_state::crashed);
  EXPECT_NE(t.reason().find("without a SHUTDOWN event"), std::string::npos);
  // Nothing revives a gone VM.
  t.on_event(event(qmp_event_kind::resume));
  t.on_query_status("running");
  EXPECT_EQ(t.state(), vm_run_state::crashed);
}

TEST(vm_state, paused_vm_that_dies_is_crashed) {
  vm_state_tracker t;
  t.on_event(event(qmp_event_kind::stop));
  t.on_qemu_gone();
  EXPECT_EQ(t.state(), vm_run_state::crashed);
}

TEST(vm_state, quit_reason_is_kept) {
  vm_state_tracker t;
  t.on_event(event(qmp_event_kind::shutdown, "host-qmp-quit"));
  t.on_qemu_gone();
  EXPECT_EQ(t.state(), vm_run_state::stopped);
  EXPECT_EQ(t.reason(), "host-qmp-quit");
}

TEST(vm_state, query_status_sets_running_or_paused_with_qemu_reason) {
  vm_state_tracker t;
  t.on_query_status("io-error");
  EXPECT_EQ(t.state(), vm_run_state::paused);
  EXPECT_EQ(t.reason(), "io-error");
  t.on_query_status("running");
  EXPECT_EQ(t.state(), vm_run_state::running);
  t.on_query_status("shutdown");
  EXPECT_EQ(t.state(), vm_run_state::shutting_down);
  t.on_query_status("running");  // stale answer after SHUTDOWN: ignored
  EXPECT_EQ(t.state(), vm_run_state::shutting_down);
}

TEST(vm_state, guest_panic_with_pause_action_is_paused) {
  vm_state_tracker t;
  qmp_event panic = event(qmp_event_kind::guest_panicked);
  panic.action = "pause";
  t.on_event(panic);
  EXPECT_EQ(t.state(), vm_run_state::paused);
  EXPECT_EQ(t.reason(), "guest-panicked");
}

}  // namespace
}  // namespace vcube::qemu
