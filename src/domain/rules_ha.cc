// The cross-object rules of HA and fencing (see rules.h).
#include <set>

#include "domain/rules.h"

namespace vcube::domain {
namespace {

std::set<std::string> names_of(const std::vector<object>& objects) {
  std::set<std::string> out;
  for (const auto& o : objects)
    out.insert(o.name);
  return out;
}

// `node` is referenced by `who`: refused when missing, "in use" when this
// request removed it.
status need_node(const std::set<std::string>& nodes, const std::string& node,
                 const std::string& who, const std::string& field, const touched_objects& touched) {
  if (nodes.count(node))
    return ok_status();
  if (touched.is_removed("node", node))
    return make_error(errc::conflict,
                      "node '" + node + "' is in use by " + who + " and cannot be removed", "name");
  return make_error(errc::invalid_input,
                    who + ": " + field + ": node '" + node + "' does not exist", field);
}

}  // namespace

status check_ha(const std::vector<object>& vms, const std::vector<object>& fence_devices,
                const std::vector<object>& ha_requests, const std::vector<object>& nodes,
                const touched_objects& touched) {
  auto node_names = names_of(nodes);
  auto vm_names = names_of(vms);
  for (const auto& vm : vms) {
    std::string preferred =
        vm.value.contains("ha") ? vm.value["ha"].value("preferred_node", "") : "";
    if (!preferred.empty())
      if (auto s = need_node(node_names, preferred, "vm '" + vm.name + "'", "ha.preferred_node",
                             touched);
          !s)
        return s;
  }
  for (const auto& device : fence_devices) {
    json listed = device.value.value("nodes", json::object());  // items() needs a live object
    for (const auto& [node, options] : listed.items())
      if (auto s = need_node(node_names, node, "fence_device '" + device.name + "'",
                             "nodes." + node, touched);
          !s)
        return s;
  }
  for (const auto& request : ha_requests) {
    if (!touched.is_changed("ha_request", request.name))
      continue;
    if (!vm_names.count(request.name))
      return make_error(errc::not_found, "vm '" + request.name + "' does not exist", "name");
    if (auto s = need_node(node_names, request.value.value("node", ""),
                           "ha_request '" + request.name + "'", "node", touched);
        !s)
      return s;
  }
  return ok_status();
}

}  // namespace vcube::domain
