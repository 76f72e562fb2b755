// The manager of each quorate partition: decide() on its copy, one write,
// then the actions (vcubed's manager loop, as core.h describes it).
#include <variant>

#include "tests/sim/world.h"

namespace vcube::sim {

void world::run_managers() {
  for (const node_def& d : nodes_) {
    sim_node& n = sim_nodes_.at(d.name);
    if (is_quorate(d.name) && members_of(d.name).front() == d.name) {
      manage(d.name, n);
    }
  }
}

ha::input world::build_input(const std::string& name, const sim_node& n) const {
  ha::input in;
  in.now_ms = now_ms_ + n.clock_offset_ms;
  in.self = name;
  in.cluster_node_count = static_cast<int>(nodes_.size());
  std::vector<std::string> members = members_of(name);
  for (const node_def& d : nodes_) {
    ha::node_info info{d.name, d.id, d.mode, d.memory_mib, false, d.has_fence_device};
    for (const std::string& m : members) {
      info.is_member = info.is_member || m == d.name;
    }
    in.nodes.push_back(info);
  }
  for (const vm_def& v : vms_) {
    auto placed = n.store.placement.find(v.name);
    std::string node = placed == n.store.placement.end() ? v.home : placed->second;
    in.vms.push_back(ha::vm_info{v.name,
                                 v.memory_mib,
                                 node,
                                 true,
                                 v.wants_running,
                                 v.priority,
                                 v.preferred,
                                 v.is_sticky,
                                 {},
                                 v.disk_nodes,
                                 v.disk_nodes});
  }
  for (const auto& [vm, report] : n.store.reports) {
    in.reports.push_back(report);
  }
  in.fence_results = n.fence_results;
  in.move_requests = move_requests_;
  return in;
}

void world::manage(const std::string& name, sim_node& n) {
  bool is_due = n.store.version != n.last_decided_version || !n.fence_results.empty() ||
                !move_requests_.empty() || now_ms_ - n.last_decide_ms >= 1000;
  if (!is_due) {
    return;
  }
  ha::output out = ha::decide(settings_, n.store.ha, build_input(name, n));
  n.last_decide_ms = now_ms_;
  n.fence_results.clear();
  move_requests_.clear();
  std::map<std::string, std::string> placement = n.store.placement;
  for (const auto& [vm, r] : out.next.vms) {
    if (!r.node.empty()) {
      placement[vm] = r.node;
    }
  }
  if (!(out.next == n.store.ha) || placement != n.store.placement) {
    log_changes(n.store, out.next);
    write(name, [&](domain_copy& c) {
      c.ha = out.next;
      c.placement = placement;
    });
  }
  n.last_decided_version = n.store.version;
  for (const ha::action& a : out.actions) {
    if (const auto* f = std::get_if<ha::fence_node>(&a)) {
      note(name + ": fence " + f->node + (f->delay_ms > 0 ? " after race delay" : ""));
      fence_requests_.push_back(fence_request{now_ms_ + f->delay_ms, name, f->node});
    } else if (const auto* alert = std::get_if<ha::raise_alert>(&a)) {
      note(name + ": alert " + alert->severity + " " + alert->subject);
    } else if (const auto* m = std::get_if<ha::answer_move>(&a)) {
      note(name + ": move " + m->vm + (m->is_accepted ? " accepted" : " refused: " + m->message));
    }
  }
}

void world::log_changes(const domain_copy& before, const ha::state& after) {
  if (!is_logging_) {
    return;
  }
  for (const auto& [vm, r] : after.vms) {
    auto old = before.ha.vms.find(vm);
    if (old == before.ha.vms.end() || old->second.state != r.state || old->second.node != r.node) {
      note("ha " + vm + " " + ha::to_string(r.state) + (r.node.empty() ? "" : " on " + r.node) +
           (r.state == ha::vm_state::moving ? " to " + r.move_to : ""));
    }
  }
  for (const auto& [node, f] : after.fences) {
    auto old = before.ha.fences.find(node);
    if (old == before.ha.fences.end() || old->second.state != f.state) {
      note("ha fence " + node + " " + ha::to_string(f.state));
    }
  }
}

}  // namespace vcube::sim
