#include "ha/view.h"

#include <algorithm>
#include <set>

#include "ha/check.h"

namespace vcube::ha {

cluster_view::cluster_view(const input& in) : in_(in) {
  std::set<int> ids;
  for (const node_info& n : in.nodes) {
    HA_CHECK(nodes_.emplace(n.name, &n).second);
    HA_CHECK(ids.insert(n.id).second);
    nodes_by_id_.push_back(&n);
  }
  std::sort(nodes_by_id_.begin(), nodes_by_id_.end(),
            [](const node_info* a, const node_info* b) { return a->id < b->id; });
  HA_CHECK(is_member(in.self));
  for (const vm_info& v : in.vms) {
    HA_CHECK(vms_.emplace(v.name, &v).second);
    if (v.is_ha) {
      ha_vms_in_order_.push_back(&v);
    }
  }
  std::sort(ha_vms_in_order_.begin(), ha_vms_in_order_.end(),
            [](const vm_info* a, const vm_info* b) {
              return a->priority != b->priority ? a->priority > b->priority : a->name < b->name;
            });
  for (const vm_report& r : in.reports) {
    std::vector<const vm_report*>& of_vm = reports_by_vm_[r.vm];
    for (const vm_report* other : of_vm) {
      HA_CHECK(other->node != r.node);  // one report per (VM, node)
    }
    of_vm.push_back(&r);
  }
}

const node_info* cluster_view::node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second;
}

const vm_info* cluster_view::vm(const std::string& name) const {
  auto it = vms_.find(name);
  return it == vms_.end() ? nullptr : it->second;
}

bool cluster_view::is_member(const std::string& node) const {
  const node_info* n = this->node(node);
  return n != nullptr && n->is_member;
}

const vm_report* cluster_view::report(const std::string& vm, const std::string& node) const {
  for (const vm_report* r : reports_of(vm)) {
    if (r->node == node) {
      return r;
    }
  }
  return nullptr;
}

const std::vector<const vm_report*>& cluster_view::reports_of(const std::string& vm) const {
  static const std::vector<const vm_report*> none;
  auto it = reports_by_vm_.find(vm);
  return it == reports_by_vm_.end() ? none : it->second;
}

bool is_active(run_state s) {
  return s == run_state::running || s == run_state::paused;
}

}  // namespace vcube::ha
