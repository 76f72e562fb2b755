#include "domain/domain_service.h"

#include <gtest/gtest.h>

#include "domain/tests/fixtures.h"

namespace vcube::domain {
namespace {

using namespace test;
using namespace std::chrono_literals;

// result<T> is not default-constructible, which co_spawn's completion needs.
awaitable<void> write_into(domain_service& service, write_request r,
                           std::chrono::milliseconds deadline,
                           std::optional<result<uint64_t>>& out) {
  out = co_await service.write(std::move(r), deadline);
}

// One node whose "corosync" loops every sent message back, in order, from
// the io_context (as corosync_link's callbacks would arrive).
struct loopback {
  asio::io_context io;
  std::unique_ptr<store> db = store::open(":memory:").value();
  bool is_looping = true;
  std::unique_ptr<domain_service> service =
      std::make_unique<domain_service>(io, *db, [this](std::string payload) {
        if (is_looping)
          asio::post(io, [this, payload = std::move(payload)] { service->on_message(1, payload); });
      });

  void bring_up(bool is_quorate = true) {
    service->on_connection(true, 1);
    service->on_quorum(is_quorate, is_quorate ? 1 : 1, is_quorate ? 1 : 2, 2);
    service->on_membership({1});
    run_until([&] { return service->is_synced(); });
  }
  template <class Pred>
  void run_until(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      io.run_one_for(50ms);
    ASSERT_TRUE(done());
  }
  std::optional<result<uint64_t>> write(write_request r, std::chrono::milliseconds deadline) {
    std::optional<result<uint64_t>> out;
    asio::co_spawn(io, write_into(*service, std::move(r), deadline, out), asio::detached);
    run_until([&] { return out.has_value(); });
    return out;
  }
};

TEST(domain_service, refuses_writes_until_connected_quorate_and_synced) {
  loopback node;
  EXPECT_EQ(node.service->writable().err().code, errc::unavailable);
  node.service->on_connection(true, 1);
  node.service->on_quorum(false, 1, 2, 3);
  auto s = node.service->writable();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().code, errc::no_quorum);
  EXPECT_EQ(s.err().message,
            "no quorum: 1 of 3 votes present, 2 needed; writes are refused until the cluster "
            "regains quorum");
  node.service->on_quorum(true, 2, 2, 3);
  EXPECT_EQ(node.service->writable().err().code, errc::unavailable);  // not synced yet
  node.service->on_membership({1});
  node.run_until([&] { return node.service->is_synced(); });
  EXPECT_TRUE(node.service->writable().ok());
  auto refused = loopback().write(apply_request({put("host", "h", {{"address", "h"}})}), 1s);
  EXPECT_EQ(refused->err().code, errc::unavailable);
}

TEST(domain_service, write_completes_when_applied_and_calls_the_hook) {
  loopback node;
  std::vector<change> seen;
  node.service->set_on_applied([&](const std::vector<change>& changes, bool) {
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  node.bring_up();
  auto v = node.write(apply_request({put("network", "lan", network_value())}), 2s);
  ASSERT_TRUE(v->ok()) << v->err().message;
  EXPECT_EQ(**v, 1u);
  EXPECT_TRUE(node.service->state().get("network", "lan"));
  ASSERT_EQ(seen.size(), 1u);
  auto bad = node.write(apply_request({remove("network", "nope")}), 2s);
  EXPECT_EQ(bad->err().code, errc::not_found);
}

TEST(domain_service, write_times_out_when_never_delivered) {
  loopback node;
  node.bring_up();
  node.is_looping = false;
  auto start = std::chrono::steady_clock::now();
  auto v = node.write(apply_request({put("network", "lan", network_value())}), 100ms);
  EXPECT_EQ(v->err().code, errc::timeout);
  EXPECT_NE(v->err().message.find("may still be applied"), std::string::npos);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
}

TEST(domain_service, stop_ends_pending_writes) {
  loopback node;
  node.bring_up();
  node.is_looping = false;
  std::optional<result<uint64_t>> out;
  asio::co_spawn(
      node.io,
      write_into(*node.service, apply_request({put("host", "h", {{"address", "h"}})}), 10s, out),
      asio::detached);
  node.io.poll();
  node.service->stop();
  node.run_until([&] { return out.has_value(); });
  EXPECT_EQ(out->err().code, errc::unavailable);
  EXPECT_FALSE(node.service->writable().ok());
}

}  // namespace
}  // namespace vcube::domain
