#include "daemon/ha_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/time.h"
#include "daemon/ha_bridge.h"
#include "daemon/off_loop.h"

namespace vcube::daemon {
std::set<uint32_t> link_member_ids(const cluster::corosync_link& link) {
  std::set<uint32_t> out;
  for (const auto& m : link.members())
    out.insert(m.node_id);
  return out;
}

ha_manager::ha_manager(asio::io_context& io, context& ctx, asio::thread_pool& fence_work,
                       fence_hooks hooks, ha::settings settings)
    : io_(io),
      ctx_(ctx),
      fence_work_(fence_work),
      hooks_(std::move(hooks)),
      settings_(settings),
      timer_(io),
      monitor_timer_(io) {}

ha_manager::~ha_manager() = default;

void ha_manager::start() {
  asio::co_spawn(io_, loop(), asio::detached);
  asio::co_spawn(io_, monitor_loop(), asio::detached);
}

void ha_manager::stop() {
  is_stopped_ = true;
  timer_.cancel();
  monitor_timer_.cancel();
}

void ha_manager::poke() {
  is_dirty_ = true;
  timer_.cancel();
}

void ha_manager::poke_monitor() {
  is_monitor_due_ = true;
  monitor_timer_.cancel();
}

std::string ha_manager::manager_name() const {
  auto ids = link_member_ids(ctx_.link);
  if (ids.empty() || !ctx_.domain.is_quorate())
    return "";
  for (const auto& node : ctx_.domain.state().list("node"))
    if (node.value.value("id", 0u) == *ids.begin())
      return node.name;
  return "";
}

bool ha_manager::is_manager() const {
  auto ids = link_member_ids(ctx_.link);
  return !ids.empty() && *ids.begin() == ctx_.node.node_id && ctx_.domain.writable();
}

awaitable<void> ha_manager::loop() {
  while (!is_stopped_) {
    is_dirty_ = false;
    if (is_manager())
      co_await decide_once();
    if (is_dirty_ || is_stopped_)
      continue;
    timer_.expires_after(tick);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> ha_manager::decide_once() {
  const auto& store = ctx_.domain.state();
  int64_t now_ms = unix_now_ms();
  ha_view view{ctx_.node.name, link_member_ids(ctx_.link), now_ms, std::move(results_)};
  results_.clear();
  auto current = ha_state_from(store);
  auto out = ha::decide(settings_, current, ha_input_from(store, view));
  auto changes = ha_changes(store, current, out, now_ms);
  if (!changes.empty()) {
    domain::write_request request{domain::write_request::type::apply, std::move(changes)};
    auto written = co_await ctx_.domain.write(std::move(request), ctx_.write_deadline);
    if (!written) {
      // The results are not persisted yet: decide with them again.
      spdlog::warn("HA manager: write refused: {}", written.err().message);
      results_.insert(results_.begin(), view.fence_results.begin(), view.fence_results.end());
      co_return;
    }
  }
  for (const auto& a : out.actions) {
    if (const auto* fence = std::get_if<ha::fence_node>(&a)) {
      if (fencing_.insert(fence->node).second)
        asio::co_spawn(io_, fence_task(fence->node, fence->delay_ms), asio::detached);
    } else if (const auto* alert = std::get_if<ha::raise_alert>(&a)) {
      spdlog::warn("alert ({}): {}: {}", alert->severity, alert->subject, alert->text);
    } else if (const auto* answer = std::get_if<ha::answer_move>(&a)) {
      spdlog::info("move of vm {}: {}", answer->vm,
                   answer->is_accepted ? "accepted" : "refused: " + answer->message);
    }
  }
}

std::vector<domain::object> ha_manager::devices_for(const std::string& node) const {
  std::vector<domain::object> out;
  for (const auto& device : ctx_.domain.state().list("fence_device"))
    if (device.value.value("nodes", json::object()).contains(node))
      out.push_back(device);
  return out;
}

awaitable<void> ha_manager::fence_task(std::string node, int64_t delay_ms) {
  if (delay_ms > 0) {
    // The fence race of a two-node split: the weaker side waits, so the
    // switch (one request at a time) powers off the other side first.
    spdlog::warn("fence {}: waiting {} ms first (fence race delay)", node, delay_ms);
    asio::steady_timer wait(io_, std::chrono::milliseconds(delay_ms));
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  auto devices = devices_for(node);
  spdlog::warn("fence {}: powering off through {} device(s)", node, devices.size());
  std::function<fence_hooks::outcome()> run = [hooks = hooks_, devices, node] {
    return hooks.fence_off(devices, node);
  };
  auto outcome = co_await off_loop(fence_work_, std::move(run));
  fencing_.erase(node);
  if (outcome.is_confirmed)
    spdlog::warn("fence {}: confirmed off", node);
  else
    spdlog::error("fence {}: failed: {}", node, outcome.message);
  results_.push_back({node, outcome.is_confirmed, outcome.message});
  int64_t now_ms = unix_now_ms();
  for (auto& entry : outcome.log)
    entry["manager"] = ctx_.node.name;
  auto log = fence_log_changes(ctx_.domain.state(), outcome.log, now_ms);
  if (!log.empty() && ctx_.domain.writable()) {
    domain::write_request request{domain::write_request::type::apply, std::move(log)};
    auto written = co_await ctx_.domain.write(std::move(request), ctx_.write_deadline);
    if (!written)
      spdlog::warn("fence history: {}", written.err().message);
  }
  poke();
}

awaitable<void> ha_manager::monitor_loop() {
  while (!is_stopped_) {
    bool is_run = is_monitor_due_ && is_manager();
    if (is_run) {
      is_monitor_due_ = false;
      co_await monitor_once();
    }
    if (is_stopped_ || (is_run && is_monitor_due_))
      continue;
    // Not the manager: look again after a tick (the role may move here).
    monitor_timer_.expires_after(is_monitor_due_ ? tick : monitor_interval);
    boost::system::error_code ec;
    co_await monitor_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!ec)
      is_monitor_due_ = true;
  }
}

// Runs every device's monitor; writes its fence_status when the verdict
// changed, with an alert when a device starts failing.
awaitable<void> ha_manager::monitor_once() {
  for (const auto& device : ctx_.domain.state().list("fence_device")) {
    std::function<status()> run = [hooks = hooks_, device] { return hooks.monitor(device); };
    auto verdict = co_await off_loop(fence_work_, std::move(run));
    std::string message = verdict ? "" : verdict.err().message.substr(0, 1024);
    const auto& store = ctx_.domain.state();
    auto current = store.get("fence_status", device.name);
    if (current && current->value.value("ok", !verdict.ok()) == verdict.ok() &&
        current->value.value("message", "") == message)
      continue;
    int64_t now_ms = unix_now_ms();
    std::vector<domain::change> changes{{domain::change::op_type::put, "fence_status", device.name,
                                         json{{"ok", verdict.ok()},
                                              {"checked_at", now_ms},
                                              {"message", message},
                                              {"checked_by", ctx_.node.name}},
                                         current ? current->version : 0}};
    if (!verdict) {
      spdlog::error("fence device {}: monitor failed: {}", device.name, message);
      changes.push_back({domain::change::op_type::put, "alert", time_ordered_name(now_ms, 0),
                         json{{"severity", "critical"},
                              {"subject", "fence device failed: " + device.name},
                              {"text", message},
                              {"at", now_ms}},
                         0});
    }
    domain::write_request request{domain::write_request::type::apply, std::move(changes)};
    auto written = co_await ctx_.domain.write(std::move(request), ctx_.write_deadline);
    if (!written)
      spdlog::warn("fence device {} status: {}", device.name, written.err().message);
    poke();
  }
}

}  // namespace vcube::daemon
