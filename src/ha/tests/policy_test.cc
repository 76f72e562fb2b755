// The small policies on their own: restart window, alert book, memory ledger.
#include <gtest/gtest.h>

#include "ha/alerts.h"
#include "ha/memory_ledger.h"
#include "ha/restart_policy.h"

namespace vcube::ha {
namespace {

TEST(restart_policy, keeps_only_the_window_and_pulls_the_future_to_now) {
  EXPECT_EQ(restarts_in_window({100, 500, 2000}, 1000, 600), (std::vector<int64_t>{500, 1000}));
  settings s;
  s.restart_max = 2;
  EXPECT_TRUE(is_restart_allowed(s, {1}));
  EXPECT_FALSE(is_restart_allowed(s, {1, 2}));
}

TEST(alert_book, repeats_after_the_interval_and_forgets_what_no_longer_holds) {
  std::map<std::string, int64_t> alerted{{"old", 10}, {"a", 900}};
  std::vector<action> actions;
  alert_book book;
  book.note("a", "warning", "A", "");
  book.note("b", "critical", "B", "");
  book.flush(1000, 500, alerted, actions);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(std::get<raise_alert>(actions[0]).subject, "B");
  EXPECT_EQ(alerted, (std::map<std::string, int64_t>{{"a", 900}, {"b", 1000}}));
  actions.clear();
  book.flush(1400, 500, alerted, actions);
  ASSERT_EQ(actions.size(), 1u);  // a: 500 ms since 900
  EXPECT_EQ(std::get<raise_alert>(actions[0]).subject, "A");
  actions.clear();
  book.flush(0, 500, alerted, actions);  // the clock went back: nothing repeats early
  EXPECT_TRUE(actions.empty());
  EXPECT_EQ(alerted, (std::map<std::string, int64_t>{{"a", 0}, {"b", 0}}));
}

TEST(memory_ledger, charges_replace_and_exclude_the_vm_itself) {
  memory_ledger ledger;
  ledger.charge("a", 100, {"n1", "n2"});
  ledger.charge("b", 50, {"n1"});
  EXPECT_EQ(ledger.used_mib("n1", ""), 150);
  EXPECT_EQ(ledger.used_mib("n1", "a"), 50);
  ledger.charge("a", 100, {"n2"});
  EXPECT_EQ(ledger.used_mib("n1", ""), 50);
  EXPECT_EQ(ledger.used_mib("n2", "b"), 100);
  EXPECT_EQ(ledger.used_mib("n3", ""), 0);
}

}  // namespace
}  // namespace vcube::ha
