// eSAN disks (docs/api.md, "eSAN disks"): list and show them with the state
// both nodes report, create, grow, change the resync rate, delete, ask for a
// verify or a split-brain resolution. The handlers validate and record
// intent in the domain; each node's esan_agent acts on it.
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/time.h"
#include "daemon/esan_plan.h"
#include "daemon/ha_bridge.h"
#include "daemon/ha_manager.h"
#include "daemon/handlers.h"
#include "domain/schema.h"

namespace vcube::daemon {
namespace {

using domain::change;
using domain::write_request;

constexpr int64_t first_port = 7789;
constexpr int64_t last_port = 7999;

api::response error_of(errc code, std::string message, std::string field = {}) {
  return api::error_response(make_error(code, std::move(message), std::move(field)));
}

std::string used_by(const domain::store& store, const std::string& disk) {
  for (const auto& vm : store.list("vm"))
    for (const auto& d : esan_disks_of(vm.value))
      if (d == disk)
        return vm.name;
  return "";
}

// "UpToDate/UpToDate", "SyncSource 40%/SyncTarget 40%", "SplitBrain/SplitBrain".
// The source knows the progress; the target shows the source's.
std::string side_word(const json& side, int source_percent) {
  if (side.is_null())
    return "unknown";
  std::string state = side.value("disk_state", "unknown");
  if (state == "SyncSource" || state == "SyncTarget")
    state += " " + std::to_string(source_percent) + "%";
  return state;
}

json disk_item(const domain::store& store, const domain::object& disk) {
  json item = disk.value;
  item["name"] = disk.name;
  item["version"] = disk.version;
  item["used_by"] = used_by(store, disk.name);
  json sides = json::array();
  int source_percent = 0;
  for (const auto& node : disk.value.value("nodes", json::array())) {
    auto status = store.get("esan_status", esan_status_name(disk.name, node.get<std::string>()));
    json side = status ? status->value : json(nullptr);
    if (!side.is_null() && side.value("disk_state", "") == "SyncSource")
      source_percent = side.value("percent", 0);
    sides.push_back(std::move(side));
  }
  std::string summary;
  for (size_t i = 0; i < sides.size(); ++i) {
    std::string word = side_word(sides[i], source_percent);
    if (word == "UpToDate" && is_copy_outdated(disk.value, disk.value["nodes"][i]))
      word = "Outdated";  // the other node wrote without it (fencing)
    summary += (summary.empty() ? "" : "/") + word;
    if (sides[i].is_null())
      sides[i] = {{"node", disk.value["nodes"][i]}};
  }
  item["sides"] = std::move(sides);
  item["state"] = summary;
  return item;
}

result<domain::object> disk_of(context& ctx, const std::string& name) {
  auto disk = ctx.domain.state().get("esan_disk", name);
  if (!disk)
    return make_error(errc::not_found, "eSAN disk '" + name + "' does not exist");
  return *disk;
}

awaitable<api::response> put_disk(context& ctx, const domain::object& disk, json value) {
  if (auto s = domain::validate_object("esan_disk", disk.name, value); !s)
    co_return api::error_response(s.err());
  write_request request{
      write_request::type::apply,
      {change{change::op_type::put, "esan_disk", disk.name, std::move(value), disk.version}}};
  co_return co_await commit(ctx, std::move(request));
}

std::string new_generation() {
  uint64_t g = 0;
  while (g == 0)
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&g), sizeof g) != 1)
      g = uint64_t(unix_now_ms()) * 0x9e3779b97f4a7c15ull;  // no entropy: still unique enough
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(g));
  return text;
}

result<int64_t> free_port(const domain::store& store) {
  std::set<int64_t> used;
  for (const auto& d : store.list("esan_disk"))
    used.insert(d.value.value("port", int64_t(0)));
  for (int64_t port = first_port; port <= last_port; ++port)
    if (!used.count(port))
      return port;
  return make_error(errc::conflict, "every replication port from 7789 to 7999 is in use");
}

awaitable<api::response> list_disks(context& ctx, api::request_context&) {
  const auto& store = ctx.domain.state();
  json items = json::array();
  for (const auto& d : store.list("esan_disk"))
    items.push_back(disk_item(store, d));
  co_return json_response({{"items", items}});
}

awaitable<api::response> show_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  co_return json_response(disk_item(ctx.domain.state(), *disk));
}

// POST /disks {"name", "size_mib", "nodes": [a, b], "rate_mib", "import":
// {"image", "format"}, "description"}: the port and the generation are chosen
// here. With an import, the first node's copy starts as that image and the
// second receives it in an initial full sync.
awaitable<api::response> create_disk(context& ctx, api::request_context& r) {
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s = reject_unknown_fields(
          *body, {"name", "size_mib", "nodes", "rate_mib", "import", "description"}, "");
      !s)
    co_return api::error_response(s.err());
  if (!body->contains("name") || !(*body)["name"].is_string())
    co_return error_of(errc::invalid_input, "name is required", "name");
  std::string name = (*body)["name"];
  auto port = free_port(ctx.domain.state());
  if (!port)
    co_return api::error_response(port.err());
  json value = *body;
  value.erase("name");
  value["port"] = *port;
  value["generation"] = new_generation();
  if (auto s = domain::validate_object("esan_disk", name, value); !s)
    co_return api::error_response(s.err());
  write_request request{write_request::type::apply,
                        {change{change::op_type::put, "esan_disk", name, std::move(value), 0}}};
  co_return co_await commit(ctx, std::move(request));
}

// The request's JSON body, which has no fields but `allowed`.
result<json> body_with(const api::request_context& r,
                       std::initializer_list<std::string_view> allowed) {
  auto body = r.body_json();
  if (!body)
    return body.err();
  if (auto s = reject_unknown_fields(*body, allowed, ""); !s)
    return s.err();
  return std::move(*body);
}

result<int64_t> integer_field(const api::request_context& r, const char* field) {
  auto body = body_with(r, {field});
  if (!body)
    return body.err();
  if (!body->contains(field) || !(*body)[field].is_number_integer())
    return make_error(errc::invalid_input, std::string(field) + " must be an integer", field);
  return (*body)[field].get<int64_t>();
}

// POST /disks/{name}/resize {"size_mib"}: grow only; each node grows its side,
// a VM sees the new size after its next start.
awaitable<api::response> resize_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  auto size = integer_field(r, "size_mib");
  if (!size)
    co_return api::error_response(size.err());
  json value = disk->value;
  value["size_mib"] = *size;
  co_return co_await put_disk(ctx, *disk, std::move(value));
}

// POST /disks/{name}/rate {"rate_mib"}: the resync rate, 0 = unlimited.
awaitable<api::response> rate_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  auto rate = integer_field(r, "rate_mib");
  if (!rate)
    co_return api::error_response(rate.err());
  json value = disk->value;
  value["rate_mib"] = *rate;
  co_return co_await put_disk(ctx, *disk, std::move(value));
}

awaitable<api::response> delete_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  write_request request{
      write_request::type::apply,
      {change{change::op_type::remove, "esan_disk", disk->name, json(), disk->version}}};
  for (const auto& node : disk->value.value("nodes", json::array()))
    if (auto s = ctx.domain.state().get("esan_status",
                                        esan_status_name(disk->name, node.get<std::string>())))
      request.changes.push_back(
          change{change::op_type::remove, "esan_status", s->name, json(), s->version});
  co_return co_await commit(ctx, std::move(request));
}

// POST /disks/{name}/verify: the first node compares both sides; the result
// shows in its side's `verify` (vcube disk verify waits for it).
awaitable<api::response> verify_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  json value = disk->value;
  int64_t request_id = unix_now_ms();
  value["verify_request"] = request_id;
  auto out = co_await put_disk(ctx, *disk, std::move(value));
  if (out.status != 200)
    co_return out;
  co_return json_response({{"name", disk->name}, {"verify_request", request_id}}, 202);
}

// POST /disks/{name}/resolve-split-brain {"discard": node}: that node's data
// is discarded; it receives every region either side changed since the split.
awaitable<api::response> resolve_disk(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  auto body = body_with(r, {"discard"});
  if (!body)
    co_return api::error_response(body.err());
  std::string discard = body->value("discard", "");
  auto nodes = disk->value.value("nodes", json::array());
  if (std::find(nodes.begin(), nodes.end(), discard) == nodes.end())
    co_return error_of(errc::invalid_input,
                       "discard must name one of the disk's nodes (" + nodes[0].get<std::string>() +
                           ", " + nodes[1].get<std::string>() + ")",
                       "discard");
  bool is_split = false;
  for (const auto& node : nodes)
    if (auto s = ctx.domain.state().get("esan_status",
                                        esan_status_name(disk->name, node.get<std::string>())))
      is_split = is_split || s->value.value("disk_state", "") == "SplitBrain";
  if (!is_split)
    co_return error_of(errc::conflict,
                       "eSAN disk '" + disk->name + "' is not in split brain; nothing to resolve");
  json value = disk->value;
  value["resolve"] = {{"discard", discard}, {"at", unix_now_ms()}};
  co_return co_await put_disk(ctx, *disk, std::move(value));
}

// POST /disks/{name}/clear-outdated: the operator's override (DRBD's
// `primary --force`) when the up-to-date copy is gone for good: the outdated
// copy may be promoted again. Writes the other node acknowledged since the
// mark are not on it; if that node ever returns, the two are in split brain.
awaitable<api::response> clear_outdated(context& ctx, api::request_context& r) {
  auto disk = disk_of(ctx, r.params.at("name"));
  if (!disk)
    co_return api::error_response(disk.err());
  if (auto body = body_with(r, {}); !body)
    co_return api::error_response(body.err());
  std::string outdated = disk->value.value("outdated", "");
  if (outdated.empty())
    co_return error_of(errc::conflict, "eSAN disk '" + disk->name + "' has no outdated copy");
  auto members = member_names(ctx.domain.state(), link_member_ids(ctx.link));
  for (const auto& node : disk->value.value("nodes", json::array()))
    if (node != outdated && members.count(node.get<std::string>()))
      co_return error_of(errc::conflict, "the up-to-date copy of eSAN disk '" + disk->name +
                                             "' is on " + node.get<std::string>() +
                                             ", which is up: " + outdated +
                                             " resyncs from it, nothing to clear");
  json value = disk->value;
  value.erase("outdated");
  value.erase("outdated_at");
  co_return co_await put_disk(ctx, *disk, std::move(value));
}

}  // namespace

void add_esan_routes(api::router& router, context& ctx) {
  using api::access;
  auto route = [&](http::verb verb, const char* pattern, access level, handler_fn fn) {
    add_route(router, ctx, verb, pattern, level, fn);
  };
  route(http::verb::get, "/api/v1/disks", access::authenticated, list_disks);
  route(http::verb::post, "/api/v1/disks", access::admin, create_disk);
  route(http::verb::get, "/api/v1/disks/{name}", access::authenticated, show_disk);
  route(http::verb::delete_, "/api/v1/disks/{name}", access::admin, delete_disk);
  route(http::verb::post, "/api/v1/disks/{name}/resize", access::admin, resize_disk);
  route(http::verb::post, "/api/v1/disks/{name}/rate", access::admin, rate_disk);
  route(http::verb::post, "/api/v1/disks/{name}/verify", access::admin, verify_disk);
  route(http::verb::post, "/api/v1/disks/{name}/resolve-split-brain", access::admin, resolve_disk);
  route(http::verb::post, "/api/v1/disks/{name}/clear-outdated", access::admin, clear_outdated);
}

}  // namespace vcube::daemon
