// ha_manager: the HA manager role of vcubed. Every node runs one; it acts
// only while this node is the manager: the domain is writable here (quorate,
// synced) and this node has the lowest node id of the CPG membership. It
// then reads the domain, calls the pure core (ha::decide), persists the next
// state in one domain write, and runs the fence actions that write asked for
// (docs/ha.md, "In vcubed"). The manager also monitors every fence device.
//
// Threading: everything on the io_context's thread; fence agents run on the
// `fence_work` pool (they block for seconds).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/asio.h"
#include "daemon/context.h"
#include "domain/types.h"
#include "ha/core.h"

namespace vcube::daemon {

// The node ids of the CPG membership (the vcubed processes) now.
std::set<uint32_t> link_member_ids(const cluster::corosync_link& link);

// The fence agents, behind functions (replaceable in tests). Both block.
struct fence_hooks {
  struct outcome {
    bool is_confirmed = false;
    std::string message;
    std::vector<json> log;  // fence_log values, one per agent call
  };
  // Powers `node` off through the devices that list it (levels in order) and
  // confirms it with status.
  std::function<outcome(const std::vector<domain::object>& devices, const std::string& node)>
      fence_off;
  // The agent's monitor action for one device: ok or why not.
  std::function<status(const domain::object& device)> monitor;
};

// Hooks on the real fence agents (fence_hooks.cc).
fence_hooks real_fence_hooks();

class ha_manager {
 public:
  static constexpr std::chrono::seconds tick{1};
  static constexpr std::chrono::seconds monitor_interval{60};

  ha_manager(asio::io_context& io, context& ctx, asio::thread_pool& fence_work, fence_hooks hooks,
             ha::settings settings = {});
  ~ha_manager();

  void start();
  void stop();
  // Something the core reads changed (membership, the domain): decide soon.
  void poke();
  // Fence devices changed: monitor them again soon.
  void poke_monitor();

  // The manager's name as this node sees it ("" without quorum or members).
  std::string manager_name() const;
  bool is_manager() const;

 private:
  awaitable<void> loop();
  awaitable<void> decide_once();
  awaitable<void> fence_task(std::string node, int64_t delay_ms);
  awaitable<void> monitor_loop();
  awaitable<void> monitor_once();
  std::vector<domain::object> devices_for(const std::string& node) const;

  asio::io_context& io_;
  context& ctx_;
  asio::thread_pool& fence_work_;
  fence_hooks hooks_;
  ha::settings settings_;
  asio::steady_timer timer_;
  asio::steady_timer monitor_timer_;
  bool is_stopped_ = false;
  bool is_dirty_ = false;
  bool is_monitor_due_ = true;
  std::vector<ha::fence_result> results_;  // arrived, not yet persisted
  std::set<std::string> fencing_;          // nodes with a fence task running
};

}  // namespace vcube::daemon
