#include "daemon/ha_bridge.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "daemon/esan_plan.h"

namespace vcube::daemon {
namespace {

struct state_name {
  ha::vm_state state;
  const char* name;
};
constexpr state_name vm_state_names[] = {
    {ha::vm_state::stopped, "stopped"},       {ha::vm_state::starting, "starting"},
    {ha::vm_state::started, "started"},       {ha::vm_state::stopping, "stopping"},
    {ha::vm_state::moving, "moving"},         {ha::vm_state::fence_wait, "fence_wait"},
    {ha::vm_state::recovering, "recovering"}, {ha::vm_state::sticky_down, "sticky_down"},
    {ha::vm_state::error, "error"},
};

const char* vm_state_name(ha::vm_state s) {
  for (const auto& n : vm_state_names)
    if (n.state == s)
      return n.name;
  return "stopped";
}

ha::vm_state vm_state_of(const std::string& text) {
  for (const auto& n : vm_state_names)
    if (text == n.name)
      return n.state;
  return ha::vm_state::stopped;
}

const char* fence_state_name(ha::fence_state s) {
  switch (s) {
    case ha::fence_state::failed:
      return "failed";
    case ha::fence_state::confirmed:
      return "confirmed";
    default:
      return "requested";
  }
}

ha::fence_state fence_state_of(const std::string& text) {
  if (text == "failed")
    return ha::fence_state::failed;
  if (text == "confirmed")
    return ha::fence_state::confirmed;
  return ha::fence_state::requested;
}

json to_json(const ha::vm_record& r) {
  return {{"node", r.node},
          {"target", r.target_running ? "running" : "stopped"},
          {"epoch", r.epoch},
          {"state", vm_state_name(r.state)},
          {"move_to", r.move_to},
          {"restarts", r.restarts_ms},
          {"message", r.message.substr(0, 1024)},
          {"since", std::max<int64_t>(r.since_ms, 0)}};
}

ha::vm_record vm_record_from(const json& v) {
  ha::vm_record r;
  r.node = v.value("node", "");
  r.target_running = v.value("target", "") == "running";
  r.epoch = v.value("epoch", int64_t(0));
  r.state = vm_state_of(v.value("state", ""));
  r.move_to = v.value("move_to", "");
  r.restarts_ms = v.value("restarts", std::vector<int64_t>{});
  r.message = v.value("message", "");
  r.since_ms = v.value("since", int64_t(0));
  return r;
}

json to_json(const ha::fence_record& r) {
  return {{"state", fence_state_name(r.state)},
          {"attempts", r.attempts},
          {"owner", r.owner},
          {"requested_at", std::max<int64_t>(r.requested_ms, 0)},
          {"attempt_at", std::max<int64_t>(r.attempt_ms, 0)},
          {"next_attempt_at", std::max<int64_t>(r.next_attempt_ms, 0)},
          {"message", r.message.substr(0, 1024)}};
}

ha::fence_record fence_record_from(const json& v) {
  ha::fence_record r;
  r.state = fence_state_of(v.value("state", ""));
  r.attempts = v.value("attempts", 0);
  r.owner = v.value("owner", "");
  r.requested_ms = v.value("requested_at", int64_t(0));
  r.attempt_ms = v.value("attempt_at", int64_t(0));
  r.next_attempt_ms = v.value("next_attempt_at", int64_t(0));
  r.message = v.value("message", "");
  return r;
}

ha::run_state run_state_of(const std::string& text) {
  if (text == "running")
    return ha::run_state::running;
  if (text == "paused")
    return ha::run_state::paused;
  if (text == "crashed")
    return ha::run_state::crashed;
  return ha::run_state::stopped;
}

// Puts and removes that turn `before` into `after` for one kind, each
// against the version the store holds.
template <class Record, class Encode>
void diff_records(const domain::store& store, const std::string& kind,
                  const std::map<std::string, Record>& before,
                  const std::map<std::string, Record>& after, Encode encode,
                  std::vector<domain::change>& out) {
  auto version_of = [&](const std::string& name) -> uint64_t {
    auto o = store.get(kind, name);
    return o ? o->version : 0;
  };
  for (const auto& [name, record] : after) {
    auto it = before.find(name);
    if (it != before.end() && it->second == record)
      continue;
    out.push_back({domain::change::op_type::put, kind, name, encode(record), version_of(name)});
  }
  for (const auto& [name, record] : before)
    if (!after.count(name))
      out.push_back({domain::change::op_type::remove, kind, name, nullptr, version_of(name)});
}

// Removes the oldest objects of `kind` so that `adding` more keep at most `kept`.
void trim_oldest(const domain::store& store, const std::string& kind, size_t adding, size_t kept,
                 std::vector<domain::change>& out) {
  auto existing = store.list(kind);  // sorted by name: oldest first
  size_t total = existing.size() + adding;
  for (size_t i = 0; total > kept && i < existing.size(); ++i, --total)
    out.push_back(
        {domain::change::op_type::remove, kind, existing[i].name, nullptr, existing[i].version});
}

void vm_node_moves(const domain::store& store, const ha::state& next,
                   std::vector<domain::change>& out) {
  for (const auto& [name, record] : next.vms) {
    auto vm = store.get("vm", name);
    if (!vm || record.node.empty() || vm->value.value("node", "") == record.node)
      continue;
    json value = vm->value;
    value["node"] = record.node;
    out.push_back({domain::change::op_type::put, "vm", name, std::move(value), vm->version});
  }
}

void alerts_and_answers(const domain::store& store, const ha::output& out, int64_t now_ms,
                        std::vector<domain::change>& changes) {
  std::vector<json> alerts;
  for (const auto& a : out.actions) {
    if (const auto* alert = std::get_if<ha::raise_alert>(&a))
      alerts.push_back({{"severity", alert->severity},
                        {"subject", alert->subject.substr(0, 256)},
                        {"text", alert->text.substr(0, 1024)},
                        {"at", now_ms}});
    if (const auto* answer = std::get_if<ha::answer_move>(&a))
      if (auto request = store.get("ha_request", answer->vm))
        changes.push_back(
            {domain::change::op_type::remove, "ha_request", answer->vm, nullptr, request->version});
  }
  for (auto& c : alert_changes(store, alerts, now_ms))
    changes.push_back(std::move(c));
}

struct esan_nodes {
  std::vector<std::string> allowed;  // vm_info's fields of the same names
  std::vector<std::string> local;
  std::vector<std::string> storage;
};

// Where `vm` may run by its eSAN disks: anywhere while every disk has a
// usable copy (not Inconsistent, not a SyncTarget) on a member, which
// serves it to a diskless node; otherwise only where all copies are usable.
esan_nodes esan_placement(const domain::store& store, const json& vm,
                          const std::set<std::string>& members) {
  std::optional<std::set<std::string>> local;
  std::set<std::string> storage;
  bool is_servable = true;
  for (const auto& d : vm.value("disks", json::array())) {
    if (!d.is_object() || !d.contains("esan"))
      continue;
    auto disk = store.get("esan_disk", d.value("esan", ""));
    std::set<std::string> usable;
    bool has_server = false;
    for (const auto& n : disk ? disk->value.value("nodes", json::array()) : json::array()) {
      std::string node = n.get<std::string>();
      storage.insert(node);
      // A copy still being synced (or never synced), or one the other node
      // wrote without (outdated), cannot serve the VM.
      auto status = store.get("esan_status", disk->name + "." + node);
      std::string state = status ? status->value.value("disk_state", "") : "";
      if (state == "Inconsistent" || state == "SyncTarget" || is_copy_outdated(disk->value, node))
        continue;
      has_server = has_server || members.count(node) > 0;
      if (!local || local->count(node))
        usable.insert(node);
    }
    is_servable = is_servable && has_server;
    local = std::move(usable);
  }
  if (!local)
    return {};
  esan_nodes out{{}, {local->begin(), local->end()}, {storage.begin(), storage.end()}};
  if (!is_servable)
    out.allowed = out.local.empty()
                      ? std::vector<std::string>{"(no node holds a usable copy of all of its "
                                                 "eSAN disks)"}
                      : out.local;
  return out;
}

}  // namespace

std::string time_ordered_name(int64_t now_ms, size_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%013lld-%zu",
                static_cast<long long>(std::max<int64_t>(now_ms, 0)), seq);
  return buf;
}

std::set<std::string> member_names(const domain::store& store,
                                   const std::set<uint32_t>& member_ids) {
  std::set<std::string> out;
  for (const auto& node : store.list("node"))
    if (member_ids.count(node.value.value("id", 0u)))
      out.insert(node.name);
  return out;
}

bool has_working_fence_device(const domain::store& store, const std::string& node) {
  for (const auto& device : store.list("fence_device")) {
    if (!device.value.value("nodes", json::object()).contains(node))
      continue;
    auto status = store.get("fence_status", device.name);
    if (!status || status->value.value("ok", false))
      return true;
  }
  return false;
}

bool has_fence_device(const domain::store& store, const std::string& node) {
  for (const auto& device : store.list("fence_device"))
    if (device.value.value("nodes", json::object()).contains(node))
      return true;
  return false;
}

ha::state ha_state_from(const domain::store& store) {
  ha::state s;
  for (const auto& o : store.list("ha_vm"))
    s.vms.emplace(o.name, vm_record_from(o.value));
  for (const auto& o : store.list("ha_fence"))
    s.fences.emplace(o.name, fence_record_from(o.value));
  if (auto m = store.get("ha_manager", "state"))
    if (auto it = m->value.find("alerted"); it != m->value.end() && it->is_object())
      for (const auto& [key, at] : it->items())
        s.alerted_ms.emplace(key, at.get<int64_t>());
  return s;
}

ha::input ha_input_from(const domain::store& store, const ha_view& view) {
  ha::input in;
  in.now_ms = view.now_ms;
  in.self = view.self;
  in.fence_results = view.fence_results;
  auto members = member_names(store, view.member_ids);
  for (const auto& o : store.list("node")) {
    bool is_member = members.count(o.name) > 0;
    // A member needs a working device to take HA VMs; a lost node is fenced
    // with whatever is configured, even a device whose monitor failed (it
    // may work now, and the VMs stay down until a fence is confirmed).
    in.nodes.push_back(
        {o.name, o.value.value("id", 0),
         o.value.value("mode", "") == "standby" ? ha::node_mode::standby : ha::node_mode::online,
         o.value.value("memory_mib", int64_t(0)), is_member,
         is_member ? has_working_fence_device(store, o.name) : has_fence_device(store, o.name)});
  }
  in.cluster_node_count = static_cast<int>(in.nodes.size());
  for (const auto& o : store.list("vm")) {
    ha::vm_info vm;
    vm.name = o.name;
    vm.memory_mib = o.value.value("memory_mib", int64_t(0));
    vm.node = o.value.value("node", "");
    if (o.value.contains("ha")) {
      const json& h = o.value["ha"];
      vm.is_ha = true;
      vm.wants_running = h.value("state", "") == "started";
      vm.priority = h.value("priority", 0);
      vm.preferred_node = h.value("preferred_node", "");
      vm.is_sticky = h.value("sticky", false);
    }
    auto esan = esan_placement(store, o.value, members);
    vm.allowed_nodes = std::move(esan.allowed);
    vm.local_nodes = std::move(esan.local);
    vm.storage_nodes = std::move(esan.storage);
    in.vms.push_back(std::move(vm));
  }
  for (const auto& o : store.list("vm_status"))
    in.reports.push_back({o.name, o.value.value("node", ""),
                          run_state_of(o.value.value("state", "")), o.value.value("reason", ""),
                          o.value.value("ha_epoch", int64_t(0))});
  for (const auto& o : store.list("ha_request"))
    in.move_requests.push_back({o.name, o.value.value("node", "")});
  return in;
}

std::vector<domain::change> ha_changes(const domain::store& store, const ha::state& current,
                                       const ha::output& out, int64_t now_ms) {
  std::vector<domain::change> changes;
  diff_records(
      store, "ha_vm", current.vms, out.next.vms, [](const ha::vm_record& r) { return to_json(r); },
      changes);
  diff_records(
      store, "ha_fence", current.fences, out.next.fences,
      [](const ha::fence_record& r) { return to_json(r); }, changes);
  if (current.alerted_ms != out.next.alerted_ms) {
    auto m = store.get("ha_manager", "state");
    changes.push_back({domain::change::op_type::put, "ha_manager", "state",
                       json{{"alerted", out.next.alerted_ms}}, m ? m->version : 0});
  }
  vm_node_moves(store, out.next, changes);
  alerts_and_answers(store, out, now_ms, changes);
  return changes;
}

std::vector<domain::change> alert_changes(const domain::store& store,
                                          const std::vector<json>& alerts, int64_t now_ms) {
  std::vector<domain::change> changes;
  trim_oldest(store, "alert", alerts.size(), alerts_kept_max, changes);
  for (size_t i = 0; i < alerts.size(); ++i)
    changes.push_back(
        {domain::change::op_type::put, "alert", time_ordered_name(now_ms, i), alerts[i], 0});
  return changes;
}

std::vector<domain::change> fence_log_changes(const domain::store& store,
                                              const std::vector<json>& entries, int64_t now_ms) {
  std::vector<domain::change> changes;
  trim_oldest(store, "fence_log", entries.size(), fence_log_kept_max, changes);
  for (size_t i = 0; i < entries.size(); ++i)
    changes.push_back(
        {domain::change::op_type::put, "fence_log", time_ordered_name(now_ms, i), entries[i], 0});
  return changes;
}

}  // namespace vcube::daemon
