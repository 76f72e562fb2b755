// Running mode: a started VM that stops is started again, within a limit.
#include "ha/tests/harness.h"

namespace vcube::ha::testing {
namespace {

harness with_web_started() {
  harness h;
  h.cfg.restart_max = 2;
  h.cfg.restart_window_ms = 60'000;
  h.add_vm("web", 1024, "n2");
  h.step(1000);
  h.settle("web");
  h.step(2000);
  return h;
}

TEST(restart, guest_power_off_restarts_on_the_same_node) {
  harness h = with_web_started();
  h.report("web", "n2", run_state::stopped, 1, "guest shut down");
  EXPECT_EQ(h.step(3000), lines{});
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").node, "n2");
  EXPECT_EQ(h.rec("web").epoch, 2);
  EXPECT_EQ(h.rec("web").restarts_ms, std::vector<int64_t>{3000});
  EXPECT_EQ(h.rec("web").message, "guest shut down");
}

TEST(restart, a_report_of_an_older_epoch_is_not_a_stop) {
  harness h = with_web_started();
  h.report("web", "n2", run_state::crashed, 0, "crash");
  h.step(3000);
  EXPECT_EQ(h.rec("web").state, vm_state::started);
}

TEST(restart, limit_reached_is_an_error_until_the_administrator_stops_and_starts) {
  harness h = with_web_started();
  h.report("web", "n2", run_state::crashed, 1, "crash");
  h.step(3000);
  h.report("web", "n2", run_state::stopped, 2, "start failed: no kvm");  // counts too
  h.step(4000);
  EXPECT_EQ(h.rec("web").restarts_ms.size(), 2u);
  h.report("web", "n2", run_state::crashed, 3, "crash");
  EXPECT_EQ(h.step(5000), lines{"alert critical restart limit reached: web"});
  EXPECT_EQ(h.rec("web").state, vm_state::error);
  EXPECT_FALSE(h.rec("web").target_running);
  EXPECT_EQ(h.step(6000), lines{});
  EXPECT_EQ(h.rec("web").state, vm_state::error);

  h.vm("web").wants_running = false;
  h.step(7000);
  EXPECT_EQ(h.rec("web").state, vm_state::stopped);
  EXPECT_TRUE(h.rec("web").restarts_ms.empty());
  EXPECT_TRUE(h.st.alerted_ms.empty());
  h.vm("web").wants_running = true;
  h.step(8000);
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_TRUE(h.rec("web").target_running);
}

TEST(restart, restarts_age_out_of_the_window) {
  harness h = with_web_started();
  for (int64_t t : {3000, 4000}) {
    h.report("web", h.rec("web").node, run_state::crashed, h.rec("web").epoch, "crash");
    h.step(t);
  }
  h.report("web", "n2", run_state::crashed, h.rec("web").epoch, "crash");
  h.step(63'001);  // the first restart left the window
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").restarts_ms, (std::vector<int64_t>{4000, 63'001}));
}

TEST(restart, restarts_in_the_future_count_as_now) {
  harness h = with_web_started();
  h.report("web", "n2", run_state::crashed, 1, "crash");
  h.step(1'000'000);
  h.report("web", "n2", run_state::crashed, 2, "crash");
  h.step(3000);  // the clock went back: the first restart counts as 3000
  EXPECT_EQ(h.rec("web").restarts_ms, (std::vector<int64_t>{3000, 3000}));
  h.report("web", "n2", run_state::crashed, 3, "crash");
  h.step(63'000);  // both aged out
  EXPECT_EQ(h.rec("web").state, vm_state::starting);
  EXPECT_EQ(h.rec("web").restarts_ms, std::vector<int64_t>{63'000});
}

}  // namespace
}  // namespace vcube::ha::testing
