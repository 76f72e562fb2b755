// What the API handlers of vcubed share: this node's identity and the
// long-lived parts they talk to. Owned by `node_daemon`; handlers hold a reference.
#pragma once

#include <chrono>
#include <string>

#include "cluster/corosync_link.h"
#include "daemon/vm_spec.h"
#include "domain/domain_service.h"
#include "env/node_config.h"

namespace vcube::daemon {

class vm_executor;
class ha_manager;
class esan_agent;

struct context {
  node_config node;
  cluster::corosync_link& link;
  domain::domain_service& domain;
  std::string auth_secret;  // token signing key, shared by the cluster
  std::chrono::seconds token_lifetime{12 * 3600};
  std::chrono::seconds join_clock_skew_max{60};  // join refused beyond this difference
  std::chrono::milliseconds write_deadline{10000};
  // For work that must not stall the event loop (scrypt, corosync tools).
  asio::thread_pool* slow_work = nullptr;
  // For blocking calls to other nodes (forwarded VM actions: may take minutes).
  asio::thread_pool* forward_work = nullptr;
  vm_executor* vms = nullptr;
  ha_manager* ha = nullptr;
  esan_agent* esan = nullptr;
  vm_host_paths vm_paths{};
};

}  // namespace vcube::daemon
