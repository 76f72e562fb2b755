// A two-node cluster (corosync two_node): it forms, and stays writable on a
// node whose peer is partitioned away, then converges after the heal.
#include <gtest/gtest.h>

#include "tests/lab/lab_fixture.h"

namespace vcube::labtest {
namespace {

using namespace std::chrono_literals;

TEST(TwoNodeLab, StaysWritableWhenOneNodeIsPartitioned) {
  if (auto why = skip_reason(); !why.empty())
    GTEST_SKIP() << why;
  std::string why;
  auto lab = lab_cluster::up(2, why);
  ASSERT_NE(lab, nullptr) << why;
  auto status = lab->node(1).call(http::verb::get, "/api/v1/cluster/status").body;
  EXPECT_TRUE(status["quorum"]["two_node"].get<bool>()) << status.dump();
  EXPECT_EQ(status["members"].size(), 2u);

  ASSERT_EQ(run_vcube({"lab", "partition", "2"}), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = lab->node(1).call(http::verb::get, "/api/v1/cluster/status").body;
        return s.is_object() && s["members"].size() == 1 && s.value("synced", false);
      },
      30s));
  answer w;
  ASSERT_TRUE(wait_until(
      [&] {
        w = lab->node(1).call(http::verb::put, "/api/v1/domain/host/alone",
                              json{{"value", {{"address", "192.0.2.5"}}}});
        return w.status == 200;
      },
      30s))
      << w.body.dump();

  ASSERT_EQ(run_vcube({"lab", "heal"}), 0);
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = lab->node(2).call(http::verb::get, "/api/v1/domain/host/alone");
        return r.status == 200;
      },
      60s));
}

}  // namespace
}  // namespace vcube::labtest
