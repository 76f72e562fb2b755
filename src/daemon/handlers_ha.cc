// HA and fencing (docs/api.md, "HA and fencing"): the HA status, per-VM HA
// settings and requests (preference, release, migrate), fence devices with
// their test and history, alerts. The HA manager (ha_manager.h) acts on what
// these write; the handlers only validate and record intent.
#include <algorithm>

#include "common/time.h"
#include "daemon/ha_bridge.h"
#include "daemon/ha_manager.h"
#include "daemon/handlers.h"
#include "daemon/off_loop.h"
#include "daemon/vm_forward.h"
#include "domain/rules.h"
#include "domain/schema.h"
#include "fence/fencing.h"

namespace vcube::daemon {
namespace {

using domain::change;
using domain::write_request;

constexpr auto ha_start_wait = std::chrono::seconds(90);
constexpr auto migrate_wait = std::chrono::seconds(180);
constexpr size_t status_alerts_max = 20;

api::response error_of(errc code, std::string message, std::string field = {}) {
  return api::error_response(make_error(code, std::move(message), std::move(field)));
}

bool is_admin(const api::request_context& r) {
  return r.principal && r.principal->has_role("admin");
}

bool is_operator(const api::request_context& r) {
  return r.principal && r.principal->has_role("operator");
}

// Latest first, at most `limit`.
json latest(const std::vector<domain::object>& objects, size_t limit) {
  json items = json::array();
  for (auto it = objects.rbegin(); it != objects.rend() && items.size() < limit; ++it) {
    json item = it->value;
    item["name"] = it->name;
    items.push_back(std::move(item));
  }
  return items;
}

json ha_vm_item(const domain::store& store, const domain::object& vm) {
  const json& h = vm.value["ha"];
  auto record = store.get("ha_vm", vm.name);
  auto status = store.get("vm_status", vm.name);
  json r = record ? record->value : json::object();
  return {{"name", vm.name},
          {"node", r.value("node", vm.value.value("node", ""))},
          {"state", r.value("state", "stopped")},
          {"target", r.value("target", "stopped")},
          {"ha", h.value("sticky", false) ? "yes/sticky" : "yes"},
          {"wanted", h.value("state", "stopped")},
          {"preferred_node", h.value("preferred_node", "")},
          {"priority", h.value("priority", 0)},
          {"run_state", status ? status->value.value("state", "stopped") : "stopped"},
          {"message", r.value("message", "")},
          {"restarts", r.value("restarts", json::array()).size()}};
}

json device_health(const domain::store& store, const domain::object& device) {
  auto status = store.get("fence_status", device.name);
  json nodes = json::array();
  json listed = device.value.value("nodes", json::object());  // items() needs a live object
  for (const auto& [node, options] : listed.items())
    nodes.push_back(node);
  return {{"name", device.name},
          {"agent", device.value.value("agent", "")},
          {"nodes", nodes},
          {"ok", status ? status->value["ok"] : json(nullptr)},
          {"message", status ? status->value.value("message", "") : ""},
          {"checked_at", status ? status->value.value("checked_at", int64_t(0)) : 0}};
}

awaitable<api::response> ha_status(context& ctx, api::request_context&) {
  const auto& store = ctx.domain.state();
  json vms = json::array();
  for (const auto& vm : store.list("vm"))
    if (vm.value.contains("ha"))
      vms.push_back(ha_vm_item(store, vm));
  json fences = json::array();
  for (const auto& f : store.list("ha_fence")) {
    json item = f.value;
    item["node"] = f.name;
    fences.push_back(std::move(item));
  }
  json devices = json::array();
  for (const auto& d : store.list("fence_device"))
    devices.push_back(device_health(store, d));
  co_return json_response({{"manager", ctx.ha->manager_name()},
                           {"is_quorate", ctx.domain.is_quorate()},
                           {"vms", vms},
                           {"fences", fences},
                           {"devices", devices},
                           {"alerts", latest(store.list("alert"), status_alerts_max)}});
}

// ---------------------------------------------------------------- per-VM HA

result<domain::object> ha_vm_of(context& ctx, const std::string& name) {
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    return make_error(errc::not_found, "vm '" + name + "' does not exist");
  if (!vm->value.contains("ha"))
    return make_error(errc::conflict, "vm '" + name +
                                          "' is not HA-managed; turn HA on first "
                                          "(vcube vm ha " +
                                          name + " on)");
  return *vm;
}

awaitable<api::response> put_vm_value(context& ctx, const domain::object& vm, json value) {
  if (auto s = domain::validate_object("vm", vm.name, value); !s)
    co_return api::error_response(s.err());
  write_request request{
      write_request::type::apply,
      {change{change::op_type::put, "vm", vm.name, std::move(value), vm.version}}};
  co_return co_await commit(ctx, std::move(request));
}

result<std::string> node_field(const api::request_context& r) {
  auto body = r.body_json();
  if (!body)
    return body.err();
  if (auto s = reject_unknown_fields(*body, {"node"}, ""); !s)
    return s.err();
  if (!body->contains("node") || !(*body)["node"].is_string())
    return make_error(errc::invalid_input, "node must be a node name", "node");
  return (*body)["node"].get<std::string>();
}

awaitable<api::response> set_preference(context& ctx, api::request_context& r) {
  auto vm = ha_vm_of(ctx, r.params.at("name"));
  if (!vm)
    co_return api::error_response(vm.err());
  json value = vm->value;
  if (r.request.method() == http::verb::delete_) {
    value["ha"].erase("preferred_node");
  } else {
    auto node = node_field(r);
    if (!node)
      co_return api::error_response(node.err());
    value["ha"]["preferred_node"] = *node;
  }
  co_return co_await put_vm_value(ctx, *vm, std::move(value));
}

awaitable<api::response> release_vm(context& ctx, api::request_context& r) {
  auto vm = ha_vm_of(ctx, r.params.at("name"));
  if (!vm)
    co_return api::error_response(vm.err());
  json value = vm->value;
  value["ha"]["sticky"] = false;
  co_return co_await put_vm_value(ctx, *vm, std::move(value));
}

// POST /vms/{name}/ha {"enabled", "priority", "sticky", "preferred_node"}:
// turns HA on (keeping the VM's wanted state: started if it runs now) or
// changes its settings; DELETE turns it off (the VM keeps running unmanaged).
awaitable<api::response> set_vm_ha(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return error_of(errc::not_found, "vm '" + name + "' does not exist");
  json value = vm->value;
  if (r.request.method() == http::verb::delete_) {
    value.erase("ha");
    co_return co_await put_vm_value(ctx, *vm, std::move(value));
  }
  auto body = r.request.body().empty() ? result<json>(json::object()) : r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s =
          reject_unknown_fields(*body, {"enabled", "priority", "sticky", "preferred_node"}, "");
      !s)
    co_return api::error_response(s.err());
  if (!body->value("enabled", true)) {
    value.erase("ha");
    co_return co_await put_vm_value(ctx, *vm, std::move(value));
  }
  auto status = ctx.domain.state().get("vm_status", name);
  bool is_up = status && domain::is_vm_state_active(status->value.value("state", ""));
  json ha = value.value("ha", json{{"state", is_up ? "started" : "stopped"}});
  for (const char* field : {"priority", "sticky", "preferred_node"})
    if (body->contains(field))
      ha[field] = (*body)[field];
  value["ha"] = std::move(ha);
  co_return co_await put_vm_value(ctx, *vm, std::move(value));
}

// Why `node` cannot take `vm` now, or "" when it can (the core decides
// again; this is for a clear answer to the request).
std::string why_not_candidate(context& ctx, const domain::object& vm, const std::string& node) {
  const auto& store = ctx.domain.state();
  auto n = store.get("node", node);
  if (!n)
    return "node '" + node + "' does not exist";
  if (n->value.value("mode", "") != "online")
    return "node '" + node + "' is in standby";
  std::set<uint32_t> ids;
  for (const auto& m : ctx.link.members())
    ids.insert(m.node_id);
  if (!member_names(store, ids).count(node))
    return "node '" + node + "' is not a member of the cluster now";
  if (!has_working_fence_device(store, node))
    return "node '" + node + "' has no working fence device";
  int64_t used = 0;
  for (const auto& other : store.list("vm")) {
    auto s = store.get("vm_status", other.name);
    bool runs_there = s && s->value.value("node", "") == node &&
                      domain::is_vm_state_active(s->value.value("state", ""));
    if (other.name != vm.name && runs_there)
      used += other.value.value("memory_mib", int64_t(0));
  }
  int64_t capacity = n->value.value("memory_mib", int64_t(0));
  if (capacity > 0 && used + vm.value.value("memory_mib", int64_t(0)) > capacity)
    return "node '" + node + "' has not enough free memory";
  return "";
}

// Waits until the VM runs on `node` (or the HA record says error).
awaitable<api::response> wait_running(context& ctx, std::string name, std::string node,
                                      std::chrono::seconds deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    const auto& store = ctx.domain.state();
    auto status = store.get("vm_status", name);
    auto record = store.get("ha_vm", name);
    if (status && status->value.value("state", "") == "running" &&
        (node.empty() || status->value.value("node", "") == node)) {
      json out = status->value;
      out["name"] = name;
      co_return json_response(std::move(out));
    }
    if (record && record->value.value("state", "") == "error")
      co_return error_of(errc::conflict,
                         "vm '" + name + "': " + record->value.value("message", "HA error"));
    timer.expires_after(std::chrono::milliseconds(200));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  auto record = ctx.domain.state().get("ha_vm", name);
  json out = {{"name", name}, {"state", record ? record->value.value("state", "") : "requested"}};
  if (record)
    out["message"] = record->value.value("message", "");
  co_return json_response(std::move(out), 202);
}

awaitable<api::response> migrate_vm(context& ctx, api::request_context& r) {
  if (!is_operator(r))
    co_return error_of(errc::forbidden, "this needs the operator role");
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return error_of(errc::not_found, "vm '" + name + "' does not exist");
  auto node = node_field(r);
  if (!node)
    co_return api::error_response(node.err());
  if (!ctx.domain.state().get("node", *node))
    co_return error_of(errc::invalid_input, "node '" + *node + "' does not exist", "node");
  auto status = ctx.domain.state().get("vm_status", name);
  bool is_up = status && domain::is_vm_state_active(status->value.value("state", ""));
  if (!vm->value.contains("ha")) {
    if (is_up)
      co_return error_of(
          errc::conflict,
          "vm '" + name +
              "' runs and is not HA-managed; live migration is not "
              "available yet: shut it down first, or turn HA on to move it by a clean "
              "restart");
    json value = vm->value;
    value["node"] = *node;
    co_return co_await put_vm_value(ctx, *vm, std::move(value));
  }
  if (vm->value.value("node", "") == *node)
    co_return error_of(errc::conflict, "vm '" + name + "' is already on node '" + *node + "'");
  if (!is_up)
    co_return error_of(errc::conflict, "vm '" + name +
                                           "' is not running; start it, or change its "
                                           "node with vcube vm edit");
  if (vm->value["ha"].value("sticky", false))
    co_return error_of(errc::conflict, "vm '" + name + "' is sticky to node '" +
                                           vm->value.value("node", "") + "'; release it first");
  if (auto why = why_not_candidate(ctx, *vm, *node); !why.empty())
    co_return error_of(errc::conflict, "cannot move vm '" + name + "': " + why);
  write_request request{
      write_request::type::apply,
      {change{change::op_type::put, "ha_request", name,
              json{{"type", "move"}, {"node", *node}, {"at", unix_now_ms()}}, std::nullopt}}};
  auto written = co_await ctx.domain.write(std::move(request), ctx.write_deadline);
  if (!written)
    co_return api::error_response(written.err());
  co_return co_await wait_running(ctx, name, *node, migrate_wait);
}

// ---------------------------------------------------------------- fence devices

json device_item(const domain::store& store, const domain::object& device, bool show_secrets) {
  json item = show_secrets ? device.value : redact_fence_device(device.value);
  item["name"] = device.name;
  item["version"] = device.version;
  auto status = store.get("fence_status", device.name);
  item["status"] = status ? status->value : json(nullptr);
  return item;
}

awaitable<api::response> list_devices(context& ctx, api::request_context& r) {
  const auto& store = ctx.domain.state();
  json items = json::array();
  for (const auto& d : store.list("fence_device"))
    items.push_back(device_item(store, d, is_admin(r)));
  co_return json_response({{"items", items}});
}

awaitable<api::response> show_device(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto device = ctx.domain.state().get("fence_device", name);
  if (!device)
    co_return error_of(errc::not_found, "fence device '" + name + "' does not exist");
  co_return json_response(device_item(ctx.domain.state(), *device, is_admin(r)));
}

awaitable<api::response> put_device(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s = reject_unknown_fields(*body, {"config", "base_version"}, ""); !s)
    co_return api::error_response(s.err());
  if (!body->contains("config") || !(*body)["config"].is_object())
    co_return error_of(errc::invalid_input, "config must be an object", "config");
  json config = (*body)["config"];
  if (auto s = domain::validate_object("fence_device", name, config); !s)
    co_return api::error_response(s.err());
  if (auto parsed = fence::parse_fence_device(name, config); !parsed)
    co_return api::error_response(parsed.err());
  std::optional<uint64_t> base;
  if (auto it = body->find("base_version"); it != body->end()) {
    if (!it->is_number_unsigned())
      co_return error_of(errc::invalid_input, "base_version must be a non-negative integer",
                         "base_version");
    base = it->get<uint64_t>();
  }
  write_request request{write_request::type::apply,
                        {change{change::op_type::put, "fence_device", name, config, base}}};
  // A changed device is checked again from scratch.
  if (auto status = ctx.domain.state().get("fence_status", name))
    request.changes.push_back(
        change{change::op_type::remove, "fence_status", name, json(), status->version});
  co_return co_await commit(ctx, std::move(request));
}

awaitable<api::response> delete_device(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto device = ctx.domain.state().get("fence_device", name);
  if (!device)
    co_return error_of(errc::not_found, "fence device '" + name + "' does not exist");
  write_request request{
      write_request::type::apply,
      {change{change::op_type::remove, "fence_device", name, json(), device->version}}};
  if (auto status = ctx.domain.state().get("fence_status", name))
    request.changes.push_back(
        change{change::op_type::remove, "fence_status", name, json(), status->version});
  co_return co_await commit(ctx, std::move(request));
}

// monitor, then status for each node the device powers. Blocking agents run
// on forward_work (seconds each).
json test_device(const fence::fence_device& device) {
  fence::fence_context context;
  auto monitor = fence::monitor(context, device);
  json nodes = json::array();
  for (const auto& [node, options] : device.node_options) {
    auto attempt = fence::run_action(context, device, node, fence::fence_action::status);
    std::string power = attempt.exit_code == 0 ? "on" : attempt.exit_code == 2 ? "off" : "unknown";
    nodes.push_back(
        {{"node", node}, {"ok", attempt.is_ok}, {"power", power}, {"message", attempt.message}});
  }
  return {{"device", device.name},
          {"monitor", {{"ok", monitor.ok()}, {"message", monitor ? "" : monitor.err().message}}},
          {"nodes", nodes}};
}

awaitable<api::response> test_device_route(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto object = ctx.domain.state().get("fence_device", name);
  if (!object)
    co_return error_of(errc::not_found, "fence device '" + name + "' does not exist");
  auto device = fence::parse_fence_device(name, object->value);
  if (!device)
    co_return api::error_response(device.err());
  std::function<json()> run = [d = *device] { return test_device(d); };
  auto out = co_await off_loop(*ctx.forward_work, std::move(run));
  if (ctx.ha)
    ctx.ha->poke_monitor();
  co_return json_response(std::move(out));
}

awaitable<api::response> fence_history(context& ctx, api::request_context& r) {
  auto node = r.query_value("node");
  std::vector<domain::object> entries;
  for (auto& e : ctx.domain.state().list("fence_log"))
    if (!node || e.value.value("node", "") == *node)
      entries.push_back(std::move(e));
  co_return json_response({{"items", latest(entries, fence_log_kept_max)}});
}

awaitable<api::response> list_alerts(context& ctx, api::request_context&) {
  co_return json_response({{"items", latest(ctx.domain.state().list("alert"), alerts_kept_max)}});
}

}  // namespace

// ---------------------------------------------------------------- VM actions

awaitable<std::optional<api::response>> ha_vm_action(context& ctx, api::request_context& r,
                                                     std::string action) {
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  bool is_ha_state_change = action == "start" || action == "shutdown" || action == "poweroff";
  if (!vm || !vm->value.contains("ha") || !is_ha_state_change || r.query.count(forwarded_param))
    co_return std::nullopt;
  std::string wanted = action == "start" ? "started" : "stopped";
  if (action == "start") {
    std::string node = vm->value["ha"].value("preferred_node", vm->value.value("node", ""));
    if (!has_working_fence_device(ctx.domain.state(), node))
      co_return error_of(errc::conflict,
                         "vm '" + name + "' is HA-managed and node '" + node +
                             "' has no working fence device; an HA VM starts only where a failed "
                             "node can be fenced (vcube fence device add, vcube ha status)");
  }
  if (vm->value["ha"].value("state", "") != wanted) {
    json value = vm->value;
    value["ha"]["state"] = wanted;
    write_request request{write_request::type::apply,
                          {change{change::op_type::put, "vm", name, value, vm->version}}};
    auto written = co_await ctx.domain.write(std::move(request), ctx.write_deadline);
    if (!written)
      co_return api::error_response(written.err());
  }
  if (action != "start")
    co_return std::nullopt;  // the node that runs it shuts it down now, as for any VM
  auto response = co_await wait_running(ctx, name, "", ha_start_wait);
  co_return response;
}

void add_ha_routes(api::router& router, context& ctx) {
  using api::access;
  auto route = [&](http::verb verb, const char* pattern, access level, handler_fn fn) {
    add_route(router, ctx, verb, pattern, level, fn);
  };
  route(http::verb::get, "/api/v1/ha", access::authenticated, ha_status);
  route(http::verb::post, "/api/v1/vms/{name}/preference", access::admin, set_preference);
  route(http::verb::delete_, "/api/v1/vms/{name}/preference", access::admin, set_preference);
  route(http::verb::post, "/api/v1/vms/{name}/release", access::admin, release_vm);
  route(http::verb::post, "/api/v1/vms/{name}/ha", access::admin, set_vm_ha);
  route(http::verb::delete_, "/api/v1/vms/{name}/ha", access::admin, set_vm_ha);
  route(http::verb::post, "/api/v1/vms/{name}/migrate", access::authenticated, migrate_vm);
  route(http::verb::get, "/api/v1/fence/devices", access::authenticated, list_devices);
  route(http::verb::get, "/api/v1/fence/devices/{name}", access::authenticated, show_device);
  route(http::verb::put, "/api/v1/fence/devices/{name}", access::admin, put_device);
  route(http::verb::delete_, "/api/v1/fence/devices/{name}", access::admin, delete_device);
  route(http::verb::post, "/api/v1/fence/devices/{name}/test", access::admin, test_device_route);
  route(http::verb::get, "/api/v1/fence/history", access::authenticated, fence_history);
  route(http::verb::get, "/api/v1/alerts", access::authenticated, list_alerts);
}

}  // namespace vcube::daemon
