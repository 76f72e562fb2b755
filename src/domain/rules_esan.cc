// The cross-object rules of eSAN disks (see rules.h).
#include <map>

#include "domain/rules.h"

namespace vcube::domain {
namespace {

std::vector<std::string> disk_nodes(const json& disk) {
  std::vector<std::string> out;
  for (const auto& n : disk.value("nodes", json::array()))
    if (n.is_string())
      out.push_back(n.get<std::string>());
  return out;
}

std::string disk_prefix(const std::string& name) {
  return "esan_disk '" + name + "': ";
}

// What an existing disk may not change: where it lives and its identity.
status check_disk_change(const object& before, const object& after) {
  if (after.value.value("size_mib", int64_t(0)) < before.value.value("size_mib", int64_t(0)))
    return make_error(errc::invalid_input,
                      disk_prefix(after.name) + "size_mib: an eSAN disk can only grow (it is " +
                          std::to_string(before.value.value("size_mib", int64_t(0))) + " MiB)",
                      "size_mib");
  for (const char* field : {"nodes", "port", "generation"})
    if (after.value.value(field, json()) != before.value.value(field, json()))
      return make_error(errc::invalid_input,
                        disk_prefix(after.name) + field +
                            " cannot be changed; create a new disk and copy the data",
                        field);
  return ok_status();
}

status check_disks(const std::vector<object>& disks,
                   const std::map<std::string, const object*>& before,
                   const std::map<std::string, const object*>& nodes,
                   const touched_objects& touched) {
  std::map<int64_t, std::string> ports;
  for (const auto& d : disks) {
    for (const auto& node : disk_nodes(d.value)) {
      if (nodes.count(node))
        continue;
      if (touched.is_removed("node", node))
        return make_error(errc::conflict,
                          "node '" + node + "' holds esan_disk '" + d.name +
                              "' and cannot be removed; delete the disk first",
                          "name");
      return make_error(errc::invalid_input,
                        disk_prefix(d.name) + "nodes: node '" + node + "' does not exist", "nodes");
    }
    auto [at, fresh] = ports.emplace(d.value.value("port", int64_t(0)), d.name);
    if (!fresh)
      return make_error(errc::conflict,
                        disk_prefix(d.name) + "port " + std::to_string(at->first) +
                            " is already used by esan_disk '" + at->second + "'",
                        "port");
    auto old = before.find(d.name);
    if (old != before.end() && touched.is_changed("esan_disk", d.name))
      if (auto s = check_disk_change(*old->second, d); !s)
        return s;
  }
  return ok_status();
}

status check_vm_disks(const std::vector<object>& vms,
                      const std::map<std::string, const object*>& disks,
                      const touched_objects& touched) {
  std::map<std::string, std::string> users;  // disk → VM
  for (const auto& vm : vms) {
    const json list = vm.value.value("disks", json::array());
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_object() || !list[i].contains("esan"))
        continue;
      std::string disk = list[i].value("esan", "");
      std::string field = "disks[" + std::to_string(i) + "].esan";
      auto found = disks.find(disk);
      if (found == disks.end()) {
        if (touched.is_removed("esan_disk", disk))
          return make_error(errc::conflict,
                            "esan_disk '" + disk + "' is in use by vm '" + vm.name +
                                "' and cannot be removed; change or delete the VM first",
                            "name");
        return make_error(
            errc::invalid_input,
            "vm '" + vm.name + "': " + field + ": esan_disk '" + disk + "' does not exist", field);
      }
      auto [at, fresh] = users.emplace(disk, vm.name);
      if (!fresh)
        return make_error(errc::conflict,
                          "vm '" + vm.name + "': " + field + ": esan_disk '" + disk +
                              "' is already used by vm '" + at->second + "'",
                          field);
      // Any node may run it: on the disk's nodes the disk is local, on the
      // others it is served over the network (diskless attach).
    }
  }
  return ok_status();
}

}  // namespace

status check_esan(const std::vector<object>& disks, const std::vector<object>& disks_before,
                  const std::vector<object>& statuses, const std::vector<object>& vms,
                  const std::vector<object>& nodes, const touched_objects& touched) {
  auto disk_map = by_name(disks);
  if (auto s = check_disks(disks, by_name(disks_before), by_name(nodes), touched); !s)
    return s;
  if (auto s = check_vm_disks(vms, disk_map, touched); !s)
    return s;
  for (const auto& st : statuses) {
    if (!touched.is_changed("esan_status", st.name))
      continue;
    std::string disk = st.value.value("disk", "");
    if (!disk_map.count(disk))
      return make_error(errc::invalid_input,
                        "esan_status '" + st.name + "': esan_disk '" + disk + "' does not exist",
                        "disk");
  }
  return ok_status();
}

}  // namespace vcube::domain
