#include "daemon/node_daemon.h"

#include <spdlog/spdlog.h>

#include "api/tls_context.h"
#include "cluster/corosync_conf.h"
#include "cluster/corosync_service.h"
#include "common/paths.h"
#include "daemon/handlers.h"
#include "env/files.h"
#include "qemu/accel_probe.h"
#include "vswitch/vswitch.h"

namespace vcube::daemon {
namespace {

// Equal but for config_version, which follows the domain version.
bool same_conf(const std::string& a, const std::string& b) {
  auto strip = [](const std::string& text) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos)
        end = text.size();
      std::string_view line(text.data() + start, end - start);
      if (line.find("config_version:") == std::string_view::npos)
        out.append(line).push_back('\n');
      start = end + 1;
    }
    return out;
  };
  return strip(a) == strip(b);
}

// How VMs meet this host: taps on the virtual switch, the acceleration.
// Called on the slow_work thread.
vm_host_hooks host_hooks() {
  vm_host_hooks hooks;
  hooks.create_taps = [](const std::string& name,
                         const std::vector<std::pair<std::string, json>>& nic_networks)
      -> result<std::vector<std::string>> {
    std::vector<vswitch::network> networks;
    for (const auto& [network, value] : nic_networks) {
      auto net = vswitch::network_from_domain(network, value);
      if (!net)
        return net.err();
      networks.push_back(*net);
    }
    return vswitch::create_taps(name, networks);
  };
  hooks.remove_taps = [](const std::string& name) {
    if (auto s = vswitch::remove_taps(name); !s)
      spdlog::warn("vm {}: {}", name, s.err().message);
  };
  hooks.resolve_accel = [](const std::string& requested) -> result<std::string> {
    auto choice = qemu::choose_acceleration(requested);
    if (!choice)
      return choice.err();
    if (!choice->warning.empty())
      spdlog::warn("{}", choice->warning);
    return choice->acceleration;
  };
  return hooks;
}

}  // namespace

result<std::unique_ptr<node_daemon>> node_daemon::create(asio::io_context& io) {
  auto node = read_node_config(paths::node_config);
  if (!node)
    return node.err();
  if (auto s = env::make_directories(paths::state_dir, 0700); !s)
    return s.err();
  if (auto s = env::make_directories(paths::run_dir, 0755); !s)
    return s.err();
  auto store = domain::store::open(paths::domain_db);
  if (!store)
    return store.err();
  auto secret = env::read_file(paths::auth_key);
  if (!secret)
    return secret.err();
  return std::unique_ptr<node_daemon>(
      new node_daemon(io, std::move(*node), std::move(*store), std::move(*secret)));
}

node_daemon::node_daemon(asio::io_context& io, node_config node,
                         std::unique_ptr<domain::store> store, std::string auth_secret)
    : io_(io), node_(std::move(node)), store_(std::move(store)) {
  domain_ = std::make_unique<domain::domain_service>(io_, *store_, [this](std::string payload) {
    // Only when the queue is over its bound; the write then times out.
    if (auto s = link_->send(std::move(payload)); !s)
      spdlog::error("{}", s.err().message);
  });
  cluster::corosync_callbacks callbacks;
  callbacks.on_membership = [this](const std::vector<cluster::member>& members) {
    std::vector<uint32_t> ids;
    std::string names;
    for (const auto& m : members) {
      ids.push_back(m.node_id);
      names += (names.empty() ? "" : ", ") + (m.name.empty() ? std::to_string(m.node_id) : m.name);
    }
    spdlog::info("membership: {}", names);
    domain_->on_membership(ids);
    ha_->poke();
  };
  callbacks.on_message = [this](uint32_t from, std::string_view payload) {
    domain_->on_message(from, payload);
  };
  callbacks.on_quorum = [this](const cluster::quorum_info& q) {
    spdlog::info("quorum: {} ({} of {} votes, {} needed)", q.is_quorate ? "yes" : "no",
                 q.total_votes, q.expected_votes, q.quorum_votes);
    domain_->on_quorum(q.is_quorate, q.total_votes, q.quorum_votes, q.expected_votes);
    ha_->poke();
    vms_->on_domain_changed();  // HA starts wait for quorum
  };
  callbacks.on_connection = [this](bool is_connected) {
    spdlog::info("corosync {}", is_connected ? "connected" : "connection lost");
    domain_->on_connection(is_connected, link_->local_node_id());
  };
  link_ = std::make_unique<cluster::corosync_link>(io_, "vcube-domain", std::move(callbacks));
  domain_->set_on_applied([this](const std::vector<domain::change>& changes, bool replaced) {
    on_applied(changes, replaced);
  });
  context_ = std::make_unique<context>(context{
      .node = node_, .link = *link_, .domain = *domain_, .auth_secret = std::move(auth_secret)});
  context_->slow_work = &slow_work_;
  context_->forward_work = &forward_work_;
  vms_ = std::make_unique<vm_executor>(io_, *context_, context_->vm_paths, host_hooks());
  context_->vms = vms_.get();
  ha_ = std::make_unique<ha_manager>(io_, *context_, fence_work_, real_fence_hooks());
  context_->ha = ha_.get();
  esan_ =
      std::make_unique<esan_agent>(io_, *context_, [this] { return vms_->esan_disks_in_use(); });
  context_->esan = esan_.get();
}

node_daemon::~node_daemon() = default;

status node_daemon::start() {
  auto cert = env::read_file(paths::node_cert);
  auto key = env::read_file(paths::node_key);
  if (!cert)
    return cert.err();
  if (!key)
    return key.err();
  auto ssl = api::make_server_context(*cert, *key);
  if (!ssl)
    return ssl.err();
  api::router routes;
  add_session_routes(routes, *context_);
  add_cluster_routes(routes, *context_);
  add_domain_routes(routes, *context_);
  add_ha_routes(routes, *context_);
  add_vm_routes(routes, *context_);
  add_esan_routes(routes, *context_);
  server_ = std::make_unique<api::http_server>(
      io_.get_executor(), std::move(*ssl), std::move(routes),
      [this](std::string_view token) { return authenticate(*context_, token); });
  boost::system::error_code ec;
  auto address = asio::ip::make_address(node_.address, ec);
  if (ec)
    return make_error(errc::invalid_input, "node.json: bad address " + node_.address);
  if (auto port = server_->listen({address, paths::api_port}); !port)
    return port.err();
  link_->start();
  sync_networks();
  vms_->start();
  ha_->start();
  esan_->start();
  spdlog::info("vcubed {} (node id {}) of cluster {} listening on https://{}:{}", node_.name,
               node_.node_id, node_.cluster, node_.address, paths::api_port);
  return ok_status();
}

awaitable<void> node_daemon::stop() {
  spdlog::info("shutting down");
  if (server_) {
    bool is_clean = co_await server_->async_stop();
    if (!is_clean)
      spdlog::warn("API connections were closed before their requests finished");
  }
  vms_->stop();
  ha_->stop();
  esan_->stop();
  domain_->stop();
  link_->stop();
}

void node_daemon::on_applied(const std::vector<domain::change>& changes, bool is_state_replaced) {
  vms_->on_domain_changed();
  bool touches_nodes = is_state_replaced;
  bool touches_networks = is_state_replaced;
  bool touches_devices = is_state_replaced;
  bool touches_ha = is_state_replaced;
  bool touches_esan = is_state_replaced;
  for (const auto& c : changes) {
    touches_nodes = touches_nodes || c.kind == "node" || c.kind == "cluster";
    touches_networks = touches_networks || c.kind == "network";
    touches_devices = touches_devices || c.kind == "fence_device";
    // The manager's own fence history and alerts change nothing it reads.
    touches_ha = touches_ha || (c.kind != "fence_log" && c.kind != "alert");
    touches_esan = touches_esan || c.kind == "esan_disk" || c.kind == "vm" || c.kind == "node";
  }
  if (touches_ha)
    ha_->poke();
  if (touches_esan)
    esan_->poke();
  if (touches_devices)
    ha_->poke_monitor();
  if (touches_nodes)
    sync_corosync_conf();
  if (touches_networks)
    sync_networks();
}

// Every domain network is a bridge on this node (src/vswitch). node.json is
// read each time: the lab adds vm_uplink after the node was created.
void node_daemon::sync_networks() {
  std::vector<vswitch::network> networks;
  for (const auto& o : store_->list("network")) {
    auto net = vswitch::network_from_domain(o.name, o.value);
    if (net)
      networks.push_back(*net);
    else
      spdlog::error("network {}: {}", o.name, net.err().message);
  }
  asio::post(slow_work_, [networks = std::move(networks)] {
    auto node = read_node_config(paths::node_config);
    std::string uplink = node ? node->vm_uplink : "";
    if (auto s = vswitch::reconcile_networks(networks, uplink); !s)
      spdlog::error("virtual switch: {}", s.err().message);
    else
      spdlog::info("virtual switch: {} networks on uplink {}", networks.size(),
                   uplink.empty() ? "(none)" : uplink);
  });
}

// corosync.conf follows the domain's node list on every member: a join or a
// removal applied here rewrites it and reloads corosync (no restart).
void node_daemon::sync_corosync_conf() {
  cluster::corosync_config config{node_.cluster, store_->version(), {}};
  if (auto c = store_->get("cluster", "cluster")) {
    config.token_ms = c->value.value("token_ms", config.token_ms);
    config.token_coefficient_ms =
        c->value.value("token_coefficient_ms", config.token_coefficient_ms);
  }
  bool has_self = false;
  for (const auto& o : store_->list("node")) {
    auto addresses = o.value.value("addresses", json::array());
    uint32_t id = o.value.value("id", 0u);
    if (addresses.empty() || id == 0)
      continue;
    config.nodes.push_back({id, o.name, addresses[0].get<std::string>()});
    has_self = has_self || id == node_.node_id;
  }
  if (!has_self) {
    spdlog::warn("this node is not in the domain's node list; corosync.conf left as it is");
    return;
  }
  std::string text = cluster::render_corosync_conf(config);
  auto current = env::read_file(paths::corosync_conf);
  if (current && same_conf(*current, text))
    return;
  if (auto s = env::write_file_atomic(paths::corosync_conf, text, 0644); !s) {
    spdlog::error("cannot update corosync.conf: {}", s.err().message);
    return;
  }
  // corosync-cfgtool blocks (up to its deadline): not on the event loop. The
  // one worker thread keeps reloads in the order of the writes.
  asio::post(slow_work_, [nodes = config.nodes.size(), version = config.config_version] {
    if (auto s = cluster::reload_corosync(); !s) {
      spdlog::error("corosync.conf updated but reload failed: {}", s.err().message);
      return;
    }
    spdlog::info("corosync.conf updated to {} nodes (config_version {}) and reloaded", nodes,
                 version);
  });
}

}  // namespace vcube::daemon
