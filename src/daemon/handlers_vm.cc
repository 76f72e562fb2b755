// Virtual machines (docs/api.md, "Virtual machines"): definitions in the
// domain, actions on the node that runs the VM (forwarded there from any
// node), images per node.
#include <openssl/rand.h>

#include <filesystem>
#include <set>

#include "api/dispatch.h"
#include "api/websocket_relay.h"
#include "common/paths.h"
#include "common/time.h"
#include "daemon/handlers.h"
#include "daemon/vm_executor.h"
#include "daemon/vm_forward.h"
#include "domain/rules.h"
#include "domain/schema.h"
#include "env/files.h"
#include "qemu/command_line.h"

namespace vcube::daemon {
namespace {

using domain::change;
using domain::write_request;

status need_role(const api::request_context& r, const char* role) {
  if (!r.principal || !r.principal->has_role(role))
    return make_error(errc::forbidden, std::string("this needs the ") + role + " role");
  return ok_status();
}

json list_item(context& ctx, const domain::object& vm) {
  auto status = ctx.domain.state().get("vm_status", vm.name);
  json s = status ? status->value : json{{"state", "stopped"}};
  int64_t started = s.value("started_at", int64_t(0));
  bool is_up = domain::is_vm_state_active(s.value("state", ""));
  return {{"name", vm.name},
          {"node", s.value("node", vm.value.value("node", ""))},
          {"state", s.value("state", "stopped")},
          {"reason", s.value("reason", "")},
          {"not_responding", s.value("not_responding", false)},
          {"vcpus", vm.value.value("vcpus", 0)},
          {"memory_mib", vm.value.value("memory_mib", 0)},
          {"uptime_s", is_up && started > 0 ? std::max<int64_t>(0, unix_now_s() - started) : 0},
          {"version", vm.version}};
}

awaitable<api::response> list_vms(context& ctx, api::request_context&) {
  json items = json::array();
  for (const auto& vm : ctx.domain.state().list("vm"))
    items.push_back(list_item(ctx, vm));
  co_return json_response(
      {{"items", items}, {"stale", !ctx.domain.is_quorate() || !ctx.domain.is_synced()}});
}

awaitable<api::response> show_vm(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return api::error_response(make_error(errc::not_found, "vm '" + name + "' does not exist"));
  auto status = ctx.domain.state().get("vm_status", name);
  json out = list_item(ctx, *vm);
  out["config"] = vm->value;
  out["status"] = status ? status->value : json(nullptr);
  co_return json_response(std::move(out));
}

std::set<std::string> macs_in_use(context& ctx) {
  std::set<std::string> out;
  for (const auto& vm : ctx.domain.state().list("vm"))
    for (const auto& nic : vm.value.value("nics", json::array()))
      out.insert(nic.value("mac", ""));
  return out;
}

// 52:54:00 (QEMU's prefix) + 3 random bytes, not used by any VM yet.
std::string new_mac(const std::set<std::string>& used) {
  for (;;) {
    unsigned char b[3];
    RAND_bytes(b, sizeof b);
    char text[18];
    std::snprintf(text, sizeof text, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
    if (!used.count(text))
      return text;
  }
}

// A NIC without a MAC keeps the MAC of the same NIC of the current
// definition, or gets a new one: MACs are generated once and kept.
void fill_macs(context& ctx, json& config, const std::optional<domain::object>& current) {
  auto it = config.find("nics");
  if (it == config.end() || !it->is_array())
    return;
  auto used = macs_in_use(ctx);
  json old = current ? current->value.value("nics", json::array()) : json::array();
  for (size_t i = 0; i < it->size(); ++i) {
    json& nic = (*it)[i];
    if (!nic.is_object() || nic.contains("mac"))
      continue;
    nic["mac"] = i < old.size() && old[i].contains("mac") ? old[i]["mac"] : json(new_mac(used));
    used.insert(nic["mac"].get<std::string>());
  }
}

// The image files a definition names that must already exist, with the field
// that names each (disks with size_mib are created at start when missing).
std::vector<std::pair<std::string, std::string>> required_images(const json& config) {
  std::vector<std::pair<std::string, std::string>> out;
  json disks = config.value("disks", json::array());
  for (size_t i = 0; i < disks.size(); ++i)
    if (disks[i].is_object() && !disks[i].contains("size_mib") && disks[i]["image"].is_string())
      out.emplace_back("disks[" + std::to_string(i) + "].image", disks[i]["image"]);
  if (config.contains("cdrom") && config["cdrom"].is_string() && config["cdrom"] != "")
    out.emplace_back("cdrom", config["cdrom"]);
  if (auto k = config.find("kernel"); k != config.end() && k->is_object())
    for (const char* field : {"kernel", "initrd"})
      if (k->contains(field) && (*k)[field].is_string())
        out.emplace_back(std::string("kernel.") + field, (*k)[field]);
  return out;
}

// The names of the files in node `node`'s image directory.
awaitable<result<std::set<std::string>>> image_names(
    context& ctx, const api::request_context& r, const std::string& node,
    const std::vector<std::pair<std::string, std::string>>& needed) {
  std::set<std::string> names;
  if (node == ctx.node.name) {
    for (const auto& [field, image] : needed)
      if (std::filesystem::exists(ctx.vm_paths.images_dir + "/" + image))
        names.insert(image);
    co_return names;
  }
  // Arguments are named: GCC 12 destroys class temporaries in co_await twice.
  std::string target = "/api/v1/nodes/" + node + "/images";
  std::optional<std::string> token = api::request_token(r.request);
  auto answer =
      co_await call_node(ctx, node, http::verb::get, std::move(target), std::nullopt, token);
  if (!answer)
    co_return answer.err();
  if (answer->status != 200 || !answer->body.contains("items"))
    co_return make_error(errc::unavailable,
                         "cannot list the images of node '" + node + "': " + answer->body.dump());
  for (const auto& item : answer->body["items"])
    names.insert(item.value("name", ""));
  co_return names;
}

// Unknown images are refused before anything is written.
awaitable<status> check_images(context& ctx, const api::request_context& r, const std::string& name,
                               const json& config) {
  auto needed = required_images(config);
  std::string node = config.value("node", "");
  if (needed.empty() || !ctx.domain.state().get("node", node))
    co_return ok_status();  // nothing to check, or the domain refuses the node
  auto names = co_await image_names(ctx, r, node, needed);
  if (!names)
    co_return names.err();
  for (const auto& [field, image] : needed)
    if (!names->count(image))
      co_return make_error(errc::invalid_input,
                           "vm '" + name + "': " + field + ": '" + image +
                               "' is not in the image directory of node '" + node + "' (" +
                               ctx.vm_paths.images_dir + ")",
                           field);
  co_return ok_status();
}

// PUT /vms/{name} {"config": {...}, "base_version": N}: creates (base_version
// 0 or absent and no such VM) or replaces the definition.
awaitable<api::response> put_vm(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s = reject_unknown_fields(*body, {"config", "base_version"}, ""); !s)
    co_return api::error_response(s.err());
  if (!body->contains("config") || !(*body)["config"].is_object())
    co_return api::error_response(
        make_error(errc::invalid_input, "config must be an object", "config"));
  json config = (*body)["config"];
  auto current = ctx.domain.state().get("vm", name);
  fill_macs(ctx, config, current);
  if (auto s = domain::validate_object("vm", name, config); !s)
    co_return api::error_response(s.err());
  auto images = co_await check_images(ctx, r, name, config);
  if (!images)
    co_return api::error_response(images.err());
  std::optional<uint64_t> base;
  if (auto it = body->find("base_version"); it != body->end()) {
    if (!it->is_number_unsigned())
      co_return api::error_response(make_error(
          errc::invalid_input, "base_version must be a non-negative integer", "base_version"));
    base = it->get<uint64_t>();
  }
  write_request request{write_request::type::apply,
                        {change{change::op_type::put, "vm", name, std::move(config), base}}};
  co_return co_await commit(ctx, std::move(request));
}

awaitable<api::response> delete_vm(context& ctx, api::request_context& r) {
  const std::string& name = r.params.at("name");
  if (!ctx.domain.state().get("vm", name))
    co_return api::error_response(make_error(errc::not_found, "vm '" + name + "' does not exist"));
  write_request request{write_request::type::apply,
                        {change{change::op_type::remove, "vm", name, json(), std::nullopt}}};
  if (ctx.domain.state().get("vm_status", name))
    request.changes.push_back(
        change{change::op_type::remove, "vm_status", name, json(), std::nullopt});
  co_return co_await commit(ctx, std::move(request));
}

// Runs `action` here if this node runs the VM, else forwards the request.
awaitable<api::response> act_on_owner(context& ctx, api::request_context& r, std::string action,
                                      vm_action_options options, std::optional<json> body) {
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return api::error_response(make_error(errc::not_found, "vm '" + name + "' does not exist"));
  std::string node = vm->value.value("node", "");
  if (node != ctx.node.name)
    co_return co_await forward_to_node(ctx, r, node, std::move(body));
  auto out = co_await ctx.vms->act(name, std::move(action), std::move(options));
  if (!out)
    co_return api::error_response(out.err());
  co_return json_response(std::move(*out));
}

awaitable<api::response> vm_action(context& ctx, api::request_context& r) {
  if (auto s = need_role(r, "operator"); !s)
    co_return api::error_response(s.err());
  const std::string& action = r.params.at("action");
  static const std::set<std::string> actions = {"start",    "shutdown", "reboot", "reset",
                                                "poweroff", "pause",    "resume"};
  if (!actions.count(action))
    co_return api::error_response(
        make_error(errc::not_found,
                   "unknown action '" + action +
                       "' (actions: start, shutdown, reboot, reset, poweroff, pause, resume)"));
  vm_action_options options;
  std::optional<json> body;
  if (!r.request.body().empty()) {
    auto parsed = r.body_json();
    if (!parsed)
      co_return api::error_response(parsed.err());
    if (auto s = reject_unknown_fields(*parsed, {"timeout_s"}, ""); !s)
      co_return api::error_response(s.err());
    int64_t timeout = parsed->value("timeout_s", int64_t(120));
    if (!(*parsed)["timeout_s"].is_null() && (timeout < 1 || timeout > 3600))
      co_return api::error_response(
          make_error(errc::invalid_input, "timeout_s must be between 1 and 3600", "timeout_s"));
    options.shutdown_timeout = std::chrono::seconds(timeout);
    body = std::move(*parsed);
  }
  // Named: GCC 12 miscompiles co_await in conditions and temporaries in it.
  std::string ha_action = action;
  auto handled = co_await ha_vm_action(ctx, r, std::move(ha_action));
  if (handled)
    co_return std::move(*handled);
  co_return co_await act_on_owner(ctx, r, action, std::move(options), std::move(body));
}

awaitable<result<uint64_t>> set_cdrom_config(context& ctx, domain::object vm, std::string iso) {
  vm.value["cdrom"] = iso;
  write_request request{write_request::type::apply,
                        {change{change::op_type::put, "vm", vm.name, vm.value, vm.version}}};
  co_return co_await ctx.domain.write(std::move(request), ctx.write_deadline);
}

// POST /vms/{name}/cdrom {"iso": "x.iso"} inserts, DELETE ejects: the
// definition changes (the next start uses it), then a running VM's drive.
// The ISO of a cdrom request: the body's "iso" for POST, "" (eject) for DELETE.
result<std::string> cdrom_iso(const api::request_context& r) {
  if (r.request.method() != http::verb::post)
    return std::string();
  auto parsed = r.body_json();
  if (!parsed)
    return parsed.err();
  if (auto s = reject_unknown_fields(*parsed, {"iso"}, ""); !s)
    return s.err();
  auto it = parsed->find("iso");
  if (it == parsed->end() || !it->is_string() || it->get<std::string>().empty())
    return make_error(errc::invalid_input, "iso must be an ISO file name", "iso");
  return it->get<std::string>();
}

awaitable<api::response> vm_cdrom(context& ctx, api::request_context& r) {
  if (auto s = need_role(r, "operator"); !s)
    co_return api::error_response(s.err());
  const std::string& name = r.params.at("name");
  auto parsed_iso = cdrom_iso(r);
  if (!parsed_iso)
    co_return api::error_response(parsed_iso.err());
  std::string iso = *parsed_iso;
  std::optional<json> body;
  if (!iso.empty())
    body = json{{"iso", iso}};
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return api::error_response(make_error(errc::not_found, "vm '" + name + "' does not exist"));
  if (!vm->value.contains("cdrom"))
    co_return api::error_response(make_error(
        errc::conflict, "vm '" + name + "' has no cdrom drive; add \"cdrom\": \"\" to its config"));
  if (!r.query.count(forwarded_param)) {
    auto written = co_await set_cdrom_config(ctx, *vm, iso);
    if (!written)
      co_return api::error_response(written.err());
  }
  auto status = ctx.domain.state().get("vm_status", name);
  bool is_up = status && domain::is_vm_state_active(status->value.value("state", ""));
  if (!is_up)
    co_return json_response({{"name", name}, {"cdrom", iso}, {"state", "stopped"}});
  vm_action_options options;
  options.iso = iso;
  std::string action = iso.empty() ? "cdrom_eject" : "cdrom_insert";
  co_return co_await act_on_owner(ctx, r, std::move(action), std::move(options), std::move(body));
}

// GET /nodes/{name}/images: the files in that node's image directory.
awaitable<api::response> list_images(context& ctx, api::request_context& r) {
  const std::string& node = r.params.at("name");
  if (node != ctx.node.name)
    co_return co_await forward_to_node(ctx, r, node);
  json items = json::array();
  std::error_code ec;
  const std::string root = ctx.vm_paths.images_dir;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator() && items.size() < 10000;
       it.increment(ec)) {
    if (!it->is_regular_file())
      continue;
    items.push_back({{"name", std::filesystem::relative(it->path(), root).string()},
                     {"size_bytes", it->file_size()}});
  }
  co_return json_response({{"node", node}, {"items", std::move(items)}});
}

// GET /vms/{name}/console (WebSocket, RFB in binary messages): relayed to
// the VM's VNC socket here, or forwarded to the node that runs it.
awaitable<api::response> vm_console(context& ctx, api::request_context& r,
                                    api::websocket_upgrade& upgrade) {
  if (auto s = need_role(r, "operator"); !s)
    co_return api::error_response(s.err());
  const std::string& name = r.params.at("name");
  auto vm = ctx.domain.state().get("vm", name);
  if (!vm)
    co_return api::error_response(make_error(errc::not_found, "vm '" + name + "' does not exist"));
  std::string node = vm->value.value("node", "");
  if (node == ctx.node.name) {
    std::string socket = qemu::run_paths_in(vm_run_dir(ctx.vm_paths, name)).vnc_socket;
    co_return co_await api::relay_to_unix_socket(upgrade, std::move(socket));
  }
  auto address = node_address(ctx, node);
  if (!address)
    co_return api::error_response(address.err());
  auto ca = env::read_file(paths::ca_cert);
  if (!ca)
    co_return api::error_response(ca.err());
  // Named, then moved: GCC 12 destroys a temporary inside co_await twice.
  api::forward_target to{*address, paths::api_port, "", api::tls_trust::trust_ca(*ca)};
  co_return co_await api::forward_websocket(upgrade, std::move(to));
}

}  // namespace

void add_vm_routes(api::router& router, context& ctx) {
  using api::access;
  auto route = [&](http::verb verb, const char* pattern, access level, handler_fn fn) {
    add_route(router, ctx, verb, pattern, level, fn);
  };
  route(http::verb::get, "/api/v1/vms", access::authenticated, list_vms);
  route(http::verb::get, "/api/v1/vms/{name}", access::authenticated, show_vm);
  route(http::verb::put, "/api/v1/vms/{name}", access::admin, put_vm);
  route(http::verb::delete_, "/api/v1/vms/{name}", access::admin, delete_vm);
  route(http::verb::post, "/api/v1/vms/{name}/cdrom", access::authenticated, vm_cdrom);
  route(http::verb::delete_, "/api/v1/vms/{name}/cdrom", access::authenticated, vm_cdrom);
  route(http::verb::post, "/api/v1/vms/{name}/{action}", access::authenticated, vm_action);
  route(http::verb::get, "/api/v1/nodes/{name}/images", access::authenticated, list_images);
  router.add_websocket("/api/v1/vms/{name}/console", access::authenticated,
                       [&ctx](api::request_context& r, api::websocket_upgrade& upgrade) {
                         return vm_console(ctx, r, upgrade);
                       });
}

}  // namespace vcube::daemon
