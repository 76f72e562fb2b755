#include "vswitch/network_plan.h"

#include <algorithm>
#include <map>

#include "vswitch/names.h"
#include "vswitch/network_assignment.h"

namespace vcube::vswitch {
namespace {

// Keeps a model of the links up to date with every command it emits, so that
// later steps see the effect of earlier ones.
class planner {
 public:
  explicit planner(link_map current) : model_(std::move(current)) {}

  void remove_stale(const assignments& wanted);
  void detach_foreign_ports(const assignments& wanted);
  void prepare_uplink(const assignments& wanted);
  void realize(const assignment& a, const std::string& uplink);

  std::vector<command> take_commands() { return std::move(commands_); }

 private:
  void emit(command argv) { commands_.push_back(std::move(argv)); }
  void remove(const std::string& name);
  void set_mtu(const std::string& name, int mtu);
  void set_up(const std::string& name);
  void pin_new_bridge_mtu(const std::string& bridge, int mtu);
  void ensure_bridge(const assignment& a);
  void ensure_port(const assignment& a, const std::string& uplink);
  void set_tap_mtus(const assignment& a);

  link_map model_;
  std::vector<command> commands_;
};

void planner::remove(const std::string& name) {
  emit({"ip", "link", "delete", "dev", name});
  model_.erase(name);
  for (auto& [_, l] : model_) {
    if (l.master == name)
      l.master.clear();
  }
}

void planner::set_mtu(const std::string& name, int mtu) {
  emit({"ip", "link", "set", "dev", name, "mtu", std::to_string(mtu)});
  model_[name].mtu = mtu;
}

void planner::set_up(const std::string& name) {
  if (model_[name].is_up)
    return;
  emit({"ip", "link", "set", "dev", name, "up"});
  model_[name].is_up = true;
}

void planner::remove_stale(const assignments& wanted) {
  std::map<std::string, const assignment*> bridges, ports;
  for (const auto& a : wanted.networks) {
    bridges[a.bridge] = &a;
    if (a.net.vlan != 0 && !a.port.empty())
      ports[a.port] = &a;
  }
  link_map snapshot = model_;
  for (const auto& [name, l] : snapshot) {
    if (l.kind == "bridge" && is_bridge_name(name) && bridges.count(name) == 0)
      remove(name);
  }
  for (const auto& [name, l] : snapshot) {
    if (l.kind != "vlan" || !is_vlan_port_name(name))
      continue;
    auto it = ports.find(name);
    bool is_right =
        it != ports.end() && l.parent == wanted.uplink && l.vlan_id == it->second->net.vlan;
    if (!is_right)
      remove(name);
  }
}

void planner::detach_foreign_ports(const assignments& wanted) {
  std::map<std::string, std::string> port_of_bridge;
  for (const auto& a : wanted.networks)
    port_of_bridge[a.bridge] = a.port;
  for (auto& [name, l] : model_) {
    auto it = port_of_bridge.find(l.master);
    if (it == port_of_bridge.end() || name == it->second || (l.is_tap && is_tap_name(name)))
      continue;
    emit({"ip", "link", "set", "dev", name, "nomaster"});
    l.master.clear();
  }
}

void planner::prepare_uplink(const assignments& wanted) {
  int mtu = 0;
  for (const auto& a : wanted.networks) {
    if (!a.port.empty())
      mtu = std::max(mtu, a.net.mtu);
  }
  if (mtu == 0)
    return;  // no network uses the uplink: leave it as the administrator set it
  if (model_[wanted.uplink].mtu != mtu)
    set_mtu(wanted.uplink, mtu);
  set_up(wanted.uplink);
}

// The kernel gives a bridge the smallest MTU of its ports, unless its MTU was
// changed by hand: that pins it. Setting the MTU it already has changes
// nothing (and pins nothing), so a new bridge, still empty and at the
// default, first gets another MTU when the network's is the default.
void planner::pin_new_bridge_mtu(const std::string& bridge, int mtu) {
  if (mtu == mtu_default)
    set_mtu(bridge, mtu_default - 1);
  set_mtu(bridge, mtu);
}

void planner::ensure_bridge(const assignment& a) {
  const std::string& b = a.bridge;
  bool is_new = model_.count(b) == 0;
  if (is_new) {
    emit({"ip", "link", "add", "name", b, "type", "bridge", "nf_call_iptables", "0",
          "nf_call_ip6tables", "0", "nf_call_arptables", "0"});
    link& added = model_[b];
    added.name = b;
    added.kind = "bridge";
    added.mtu = mtu_default;
    pin_new_bridge_mtu(b, a.net.mtu);
  } else if (model_[b].calls_iptables) {
    emit({"ip", "link", "set", "dev", b, "type", "bridge", "nf_call_iptables", "0",
          "nf_call_ip6tables", "0", "nf_call_arptables", "0"});
    model_[b].calls_iptables = false;
  }
  if (model_[b].alias != bridge_alias(a.net.name)) {
    emit({"ip", "link", "set", "dev", b, "alias", bridge_alias(a.net.name)});
    model_[b].alias = bridge_alias(a.net.name);
  }
}

void planner::ensure_port(const assignment& a, const std::string& uplink) {
  const std::string& p = a.port;
  if (p.empty())
    return;
  if (a.net.vlan != 0) {
    if (model_.count(p) == 0) {
      emit({"ip", "link", "add", "link", uplink, "name", p, "mtu", std::to_string(a.net.mtu),
            "type", "vlan", "id", std::to_string(a.net.vlan)});
      link& added = model_[p];
      added.name = p;
      added.kind = "vlan";
      added.parent = uplink;
      added.mtu = a.net.mtu;
      added.vlan_id = a.net.vlan;
    } else if (model_[p].mtu != a.net.mtu) {
      set_mtu(p, a.net.mtu);
    }
  }
  if (model_[p].master != a.bridge) {
    emit({"ip", "link", "set", "dev", p, "master", a.bridge});
    model_[p].master = a.bridge;
  }
  set_up(p);
}

void planner::set_tap_mtus(const assignment& a) {
  for (auto& [name, l] : model_) {
    if (l.master == a.bridge && l.is_tap && l.mtu != a.net.mtu) {
      emit({"ip", "link", "set", "dev", name, "mtu", std::to_string(a.net.mtu)});
      l.mtu = a.net.mtu;
    }
  }
}

void planner::realize(const assignment& a, const std::string& uplink) {
  ensure_bridge(a);
  ensure_port(a, uplink);
  set_tap_mtus(a);
  if (model_[a.bridge].mtu != a.net.mtu)
    set_mtu(a.bridge, a.net.mtu);
  set_up(a.bridge);
}

}  // namespace

network_plan plan_networks(const std::vector<network>& desired, const std::string& uplink,
                           const link_map& current) {
  auto wanted = assign_networks(desired, uplink, current);
  planner p(current);
  p.remove_stale(wanted);
  p.detach_foreign_ports(wanted);
  p.prepare_uplink(wanted);
  for (const auto& a : wanted.networks)
    p.realize(a, wanted.uplink);
  return {p.take_commands(), std::move(wanted.problems)};
}

}  // namespace vcube::vswitch
