// The cross-object rules of VMs (see rules.h).
#include <map>

#include "domain/rules.h"

namespace vcube::domain {
namespace {

std::string vm_prefix(const object& vm) {
  return "vm '" + vm.name + "': ";
}

// A reference to a missing object: "in use" when this request removed it.
error missing(const object& vm, const char* kind, const std::string& name, const std::string& field,
              const touched_objects& touched) {
  if (touched.is_removed(kind, name))
    return make_error(errc::conflict,
                      std::string(kind) + " '" + name + "' is in use by vm '" + vm.name +
                          "' and cannot be removed; change or delete the VM first",
                      "name");
  return make_error(errc::invalid_input,
                    vm_prefix(vm) + field + ": " + kind + " '" + name + "' does not exist", field);
}

status check_references(const object& vm, const std::map<std::string, const object*>& nodes,
                        const std::map<std::string, const object*>& networks,
                        const touched_objects& touched) {
  std::string node = vm.value.value("node", "");
  if (!nodes.count(node))
    return missing(vm, "node", node, "node", touched);
  const json& nics = vm.value.contains("nics") ? vm.value["nics"] : json::array();
  for (size_t i = 0; i < nics.size(); ++i) {
    std::string network = nics[i].value("network", "");
    if (!networks.count(network))
      return missing(vm, "network", network, "nics[" + std::to_string(i) + "].network", touched);
  }
  return ok_status();
}

status check_fits(const object& vm, const object& node) {
  auto limit_of = [&](const char* field) { return node.value.value(field, int64_t(0)); };
  int64_t memory_mib = vm.value.value("memory_mib", int64_t(0));
  int64_t vcpus = vm.value.value("vcpus", int64_t(0));
  if (limit_of("memory_mib") > 0 && memory_mib > limit_of("memory_mib"))
    return make_error(errc::invalid_input,
                      vm_prefix(vm) + "memory_mib " + std::to_string(memory_mib) +
                          " is more than node '" + node.name + "' has (" +
                          std::to_string(limit_of("memory_mib")) + " MiB)",
                      "memory_mib");
  if (limit_of("cpus") > 0 && vcpus > limit_of("cpus"))
    return make_error(errc::invalid_input,
                      vm_prefix(vm) + "vcpus " + std::to_string(vcpus) + " is more than node '" +
                          node.name + "' has (" + std::to_string(limit_of("cpus")) + " CPUs)",
                      "vcpus");
  return ok_status();
}

status check_macs(const std::vector<object>& vms) {
  std::map<std::string, std::string> owners;
  for (const auto& vm : vms) {
    const json& nics = vm.value.contains("nics") ? vm.value["nics"] : json::array();
    for (size_t i = 0; i < nics.size(); ++i) {
      std::string mac = nics[i].value("mac", "");
      auto [at, fresh] = owners.emplace(mac, vm.name);
      if (!fresh)
        return make_error(errc::conflict,
                          vm_prefix(vm) + "nics[" + std::to_string(i) + "].mac " + mac +
                              " is already used by vm '" + at->second + "'",
                          "nics[" + std::to_string(i) + "].mac");
    }
  }
  return ok_status();
}

bool is_active(const object& vm_status) {
  return is_vm_state_active(vm_status.value.value("state", ""));
}

}  // namespace

status check_vms(const std::vector<object>& vms, const std::vector<object>& vm_statuses,
                 const std::vector<object>& nodes, const std::vector<object>& networks,
                 const std::vector<object>& vm_statuses_before, const touched_objects& touched) {
  auto node_map = by_name(nodes);
  auto network_map = by_name(networks);
  auto vm_map = by_name(vms);
  for (const auto& vm : vms) {
    if (auto s = check_references(vm, node_map, network_map, touched); !s)
      return s;
    if (touched.is_changed("vm", vm.name))
      if (auto s = check_fits(vm, *node_map.at(vm.value.value("node", ""))); !s)
        return s;
  }
  if (auto s = check_macs(vms); !s)
    return s;
  for (const auto& status : vm_statuses_before)
    if (touched.is_removed("vm", status.name) && is_active(status))
      return make_error(errc::conflict,
                        "vm '" + status.name + "' is " + status.value.value("state", "") +
                            " on node '" + status.value.value("node", "") +
                            "'; stop it before deleting it",
                        "name");
  for (const auto& status : vm_statuses)
    if (touched.is_changed("vm_status", status.name) && !vm_map.count(status.name))
      return make_error(errc::invalid_input,
                        "vm_status '" + status.name + "': vm '" + status.name + "' does not exist",
                        "name");
  return ok_status();
}

}  // namespace vcube::domain
