// node_daemon: one vcubed — corosync link, domain service, API server —
// wired together on one io_context thread. Owns all of them.
#pragma once

#include <memory>

#include "api/http_server.h"
#include "api/router.h"
#include "cluster/corosync_link.h"
#include "daemon/context.h"
#include "daemon/esan_agent.h"
#include "daemon/ha_manager.h"
#include "daemon/vm_executor.h"
#include "domain/domain_service.h"
#include "domain/store.h"

namespace vcube::daemon {

class node_daemon {
 public:
  // Reads the node's files (node.json, certificates, auth key, domain.db).
  static result<std::unique_ptr<node_daemon>> create(asio::io_context& io);
  ~node_daemon();

  // Starts corosync messaging and listens on the API port.
  status start();
  // Stops the API (open requests finish, within the server's stop bound),
  // then leaves the CPG group and cancels timers; io.run() returns once every
  // operation has finished. Runs on the io_context's thread.
  awaitable<void> stop();

 private:
  node_daemon(asio::io_context& io, node_config node, std::unique_ptr<domain::store> store,
              std::string auth_secret);
  void on_applied(const std::vector<domain::change>& changes, bool is_state_replaced);
  void sync_corosync_conf();
  void sync_networks();

  asio::io_context& io_;
  node_config node_;
  std::unique_ptr<domain::store> store_;
  std::unique_ptr<cluster::corosync_link> link_;
  std::unique_ptr<domain::domain_service> domain_;
  asio::thread_pool slow_work_{1};
  asio::thread_pool forward_work_{4};
  asio::thread_pool fence_work_{2};  // fence agents: seconds per call
  std::unique_ptr<vm_executor> vms_;
  std::unique_ptr<ha_manager> ha_;
  std::unique_ptr<esan_agent> esan_;
  std::unique_ptr<context> context_;
  std::unique_ptr<api::http_server> server_;
};

}  // namespace vcube::daemon
