#include "daemon/vm_report.h"

#include <unistd.h>

#include <fstream>

#include "domain/rules.h"

namespace vcube::daemon {
namespace {

domain::change put_status(const std::string& name, json value, uint64_t base_version) {
  return domain::change{domain::change::op_type::put, "vm_status", name, std::move(value),
                        base_version};
}

bool is_active(const json& status) {
  return domain::is_vm_state_active(status.value("state", ""));
}

}  // namespace

json vm_status_value(const std::string& node, const local_vm& vm) {
  json v = {{"node", node}, {"state", vm.state}, {"since", vm.since}};
  if (!vm.reason.empty())
    v["reason"] = vm.reason.substr(0, 256);
  if (vm.started_at > 0)
    v["started_at"] = vm.started_at;
  if (vm.is_not_responding)
    v["not_responding"] = true;
  if (!vm.accel.empty())
    v["accel"] = vm.accel;
  if (vm.ha_epoch > 0)
    v["ha_epoch"] = vm.ha_epoch;
  return v;
}

std::string describe_stop_reason(const std::string& qemu_reason) {
  if (qemu_reason == "guest-shutdown")
    return "guest shut down";
  if (qemu_reason == "guest-reset")
    return "guest reset";
  if (qemu_reason == "guest-panic")
    return "guest panicked";
  if (qemu_reason.rfind("host-", 0) == 0)
    return "host request";
  return qemu_reason;
}

std::vector<domain::change> status_changes(const std::string& node,
                                           const std::map<std::string, local_vm>& local,
                                           const domain::store& state, int64_t now_s) {
  std::vector<domain::change> out;
  for (const auto& [name, vm] : local) {
    auto definition = state.get("vm", name);
    if (!definition)
      continue;
    // A VM that stopped here and is now assigned to another node is that
    // node's to report; a running one is reported wherever it runs.
    if (!domain::is_vm_state_active(vm.state) && definition->value.value("node", "") != node)
      continue;
    json wanted = vm_status_value(node, vm);
    auto current = state.get("vm_status", name);
    if (!current || current->value != wanted)
      out.push_back(put_status(name, std::move(wanted), current ? current->version : 0));
  }
  for (const auto& status : state.list("vm_status")) {
    if (status.value.value("node", "") != node || local.count(status.name))
      continue;
    if (!state.get("vm", status.name)) {
      out.push_back(domain::change{domain::change::op_type::remove, "vm_status", status.name,
                                   json(), status.version});
    } else if (is_active(status.value)) {
      local_vm gone{"crashed", "QEMU is gone: the node restarted", now_s, 0, false, "", 0};
      out.push_back(put_status(status.name, vm_status_value(node, gone), status.version));
    }
  }
  return out;
}

node_resources local_resources() {
  node_resources r;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  while (meminfo >> key >> kib) {
    if (key == "MemTotal:") {
      r.memory_mib = kib / 1024;
      break;
    }
    meminfo.ignore(256, '\n');
  }
  r.cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return r;
}

std::vector<domain::change> resource_changes(const std::string& node,
                                             const node_resources& resources,
                                             const domain::store& state) {
  auto current = state.get("node", node);
  if (!current || resources.memory_mib <= 0 || resources.cpus <= 0)
    return {};
  json value = current->value;
  value["memory_mib"] = resources.memory_mib;
  value["cpus"] = resources.cpus;
  if (value == current->value)
    return {};
  return {domain::change{domain::change::op_type::put, "node", node, std::move(value),
                         current->version}};
}

}  // namespace vcube::daemon
