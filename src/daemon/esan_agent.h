// esan_agent: keeps this node's vcube-esand in line with the domain's eSAN
// disks (docs/esan.md, "In the cluster"). It starts esand when its control
// socket does not answer, creates and attaches the volumes of this node's
// disks, demotes a primary no local VM uses, runs requested verifies and
// split-brain resolutions, deletes the volumes of deleted disks, and reports
// every disk's state as an esan_status object. For a VM on a node without a
// copy of its disk (diskless attach), that node's esand serves the disk from
// the disk's nodes over authenticated TCP NBD, and one of the disk's nodes
// is made primary for it (esan_serving_node). The executor promotes a VM's
// disks, or waits for their remote volumes, before it starts QEMU
// (promote()).
//
// Threading: the loop runs on the io_context's thread; control requests are
// blocking and run on the agent's own worker thread (off_loop).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/asio.h"
#include "daemon/context.h"
#include "daemon/esan_plan.h"

namespace vcube::daemon {

class esan_agent {
 public:
  static constexpr std::chrono::seconds tick_interval{2};
  static constexpr std::chrono::seconds promote_timeout{60};

  // `in_use` lists the disks of the VMs that run (or start) on this node.
  esan_agent(asio::io_context& io, context& ctx, std::function<std::set<std::string>()> in_use,
             esan_paths paths = {});
  ~esan_agent();

  void start();
  void stop();
  // The domain changed: act now rather than at the next tick.
  void poke();

  // Makes this node primary for `disks` before a VM starts on them: retries
  // while the peer is still primary (its VM is being stopped) or the volume
  // is not attached yet, up to promote_timeout. A disk without a copy here
  // is attached as a remote volume instead.
  awaitable<status> promote(std::vector<std::string> disks);

 private:
  struct observed {
    bool is_esand_up = false;
    json volumes = json::array();  // esand's status
    json remotes = json::array();
    std::set<std::string> created;
  };
  struct tick_result {
    json volumes = json::array();  // esand's status, after the requests
    json remotes = json::array();
    std::map<std::string, int64_t> verify_done;
    std::map<std::string, int64_t> resolve_done;
    bool is_esand_up = false;
  };

  awaitable<void> loop();
  awaitable<void> tick();
  // `nbd_listen`: where esand serves TCP NBD ("" for nowhere).
  observed observe(const std::string& nbd_listen) const;
  // `volumes`: esand's status before them (it stands when there are none).
  tick_result run_requests(const std::vector<json>& requests,
                           const std::vector<esan_volume>& wanted, esan_local local,
                           const json& volumes, const json& remotes) const;
  // Starts esand when nothing answers; its status reply.
  result<json> ensure_esand(const std::string& nbd_listen) const;
  // The key esand's TCP connections prove, derived from the cluster's key.
  status write_link_key() const;
  awaitable<status> wait_remote(const std::string& disk,
                                std::chrono::steady_clock::time_point until);
  awaitable<status> promote_one(const std::string& disk,
                                std::chrono::steady_clock::time_point until);
  awaitable<void> pause_a_second();  // between retries of a promotion
  status import_data(const json& create, const std::vector<esan_volume>& wanted) const;
  std::string esand_path() const;
  awaitable<void> report(const std::vector<esan_volume>& wanted, const tick_result& r);

  asio::io_context& io_;
  context& ctx_;
  std::function<std::set<std::string>()> in_use_;
  esan_paths paths_;
  asio::thread_pool work_{1};
  asio::steady_timer timer_;
  std::set<std::string> starting_;  // disks being promoted for a VM start
  bool is_stopped_ = false;
  bool is_poked_ = false;
};

}  // namespace vcube::daemon
