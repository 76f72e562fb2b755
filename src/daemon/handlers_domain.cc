// Domain objects, staged changes and backup (docs/api.md).
#include "api/password.h"
#include "daemon/handlers.h"
#include "domain/backup.h"
#include "domain/schema.h"

namespace vcube::daemon {
namespace {

using domain::change;
using domain::write_request;

status check_kind(const std::string& kind) {
  if (!domain::is_known_kind(kind)) {
    return make_error(errc::not_found,
                      "unknown object kind '" + kind +
                          "' (kinds: cluster, node, host, network, user, group, vm, vm_status)",
                      "kind");
  }
  return ok_status();
}

// Nodes come and go through join and remove, which also change corosync.conf.
status check_generic_write(const std::string& kind) {
  if (kind == "node") {
    return make_error(errc::conflict,
                      "nodes are added by `vcube cluster join` and removed by `vcube node "
                      "remove`; change a node's mode with POST /api/v1/nodes/{name}/mode",
                      "kind");
  }
  if (kind == "vm_status") {
    return make_error(errc::conflict,
                      "vm_status objects are written by the node that runs the VM; use the VM "
                      "actions (POST /api/v1/vms/{name}/start, ...)",
                      "kind");
  }
  return ok_status();
}

json item_json(const domain::object& o) {
  return {{"name", o.name}, {"version", o.version}, {"value", public_value(o.kind, o.value)}};
}

bool is_stale(context& ctx) {
  return !ctx.domain.is_quorate() || !ctx.domain.is_synced();
}

awaitable<api::response> list_objects(context& ctx, api::request_context& r) {
  const std::string& kind = r.params.at("kind");
  if (auto s = check_kind(kind); !s)
    co_return api::error_response(s.err());
  json items = json::array();
  for (const auto& o : ctx.domain.state().list(kind))
    items.push_back(item_json(o));
  co_return json_response(
      {{"items", items}, {"version", ctx.domain.state().version()}, {"stale", is_stale(ctx)}});
}

awaitable<api::response> get_object(context& ctx, api::request_context& r) {
  const std::string& kind = r.params.at("kind");
  if (auto s = check_kind(kind); !s)
    co_return api::error_response(s.err());
  auto o = ctx.domain.state().get(kind, r.params.at("name"));
  if (!o) {
    co_return api::error_response(
        make_error(errc::not_found, kind + " '" + r.params.at("name") + "' does not exist"));
  }
  json body = item_json(*o);
  body["stale"] = is_stale(ctx);
  co_return json_response(body);
}

// A user is written with "password"; the domain stores only its hash. An edit
// without a password keeps the existing hash.
result<json> prepare_user(context& ctx, const std::string& name, json value) {
  if (value.contains("password_hash")) {
    return make_error(errc::invalid_input, "set 'password', not 'password_hash'", "password_hash");
  }
  if (value.contains("password")) {
    if (!value["password"].is_string() || value["password"].get<std::string>().size() < 8) {
      return make_error(errc::invalid_input, "password must be a string of at least 8 characters",
                        "password");
    }
    value["password_hash"] = api::hash_password(value["password"].get<std::string>());
    value.erase("password");
  } else if (auto existing = ctx.domain.state().get("user", name)) {
    value["password_hash"] = existing->value.value("password_hash", "");
  } else {
    return make_error(errc::invalid_input, "a new user needs a password", "password");
  }
  return value;
}

result<change> parse_put(context& ctx, api::request_context& r, bool& stage) {
  const std::string& kind = r.params.at("kind");
  const std::string& name = r.params.at("name");
  if (auto s = check_kind(kind); !s)
    return s.err();
  if (auto s = check_generic_write(kind); !s)
    return s.err();
  auto body = r.body_json();
  if (!body)
    return body.err();
  if (auto s = reject_unknown_fields(*body, {"value", "base_version", "stage"}, ""); !s) {
    return s.err();
  }
  if (!body->contains("value") || !(*body)["value"].is_object()) {
    return make_error(errc::invalid_input, "'value' must be a JSON object", "value");
  }
  change c{change::op_type::put, kind, name, (*body)["value"], std::nullopt};
  if (body->contains("base_version")) {
    if (!(*body)["base_version"].is_number_unsigned()) {
      return make_error(errc::invalid_input, "base_version must be a non-negative integer",
                        "base_version");
    }
    c.base_version = (*body)["base_version"].get<uint64_t>();
  }
  stage = body->value("stage", false);
  if (kind == "user") {
    auto value = prepare_user(ctx, name, std::move(c.value));
    if (!value)
      return value.err();
    c.value = std::move(*value);
  }
  if (auto s = domain::validate_name(kind, name); !s)
    return s.err();
  if (auto s = domain::validate_object(kind, name, c.value); !s)
    return s.err();
  return c;
}

awaitable<api::response> stage_or_commit(context& ctx, change c, bool stage) {
  // (Built before co_await: GCC 12 miscompiles braced aggregates there.)
  write_request request{stage ? write_request::type::stage : write_request::type::apply, {c}};
  auto response = co_await commit(ctx, std::move(request));
  if (!stage)
    co_return response;
  if (response.status == 200) {
    response.body = {{"staged", ctx.domain.state().staged().size()},
                     {"version", response.body["version"]}};
  }
  co_return response;
}

awaitable<api::response> put_object(context& ctx, api::request_context& r) {
  bool stage = false;
  auto c = parse_put(ctx, r, stage);
  if (!c)
    co_return api::error_response(c.err());
  co_return co_await stage_or_commit(ctx, std::move(*c), stage);
}

awaitable<api::response> delete_object(context& ctx, api::request_context& r) {
  const std::string& kind = r.params.at("kind");
  if (auto s = check_kind(kind); !s)
    co_return api::error_response(s.err());
  if (auto s = check_generic_write(kind); !s)
    co_return api::error_response(s.err());
  change c{change::op_type::remove, kind, r.params.at("name"), json(), std::nullopt};
  if (auto it = r.query.find("base_version"); it != r.query.end()) {
    try {
      c.base_version = std::stoull(it->second);
    } catch (const std::exception&) {
      co_return api::error_response(
          make_error(errc::invalid_input, "base_version must be an integer", "base_version"));
    }
  }
  bool stage = r.query.contains("stage") && r.query.at("stage") != "0";
  if (!stage && !ctx.domain.state().get(kind, c.name)) {
    co_return api::error_response(
        make_error(errc::not_found, kind + " '" + c.name + "' does not exist"));
  }
  co_return co_await stage_or_commit(ctx, std::move(c), stage);
}

awaitable<api::response> list_staged(context& ctx, api::request_context&) {
  json changes = json::array();
  for (const auto& c : ctx.domain.state().staged()) {
    auto current = ctx.domain.state().get(c.kind, c.name);
    changes.push_back(
        {{"op", c.op == change::op_type::put ? "put" : "delete"},
         {"kind", c.kind},
         {"name", c.name},
         {"value", c.op == change::op_type::put ? public_value(c.kind, c.value) : json()},
         {"current", current ? public_value(c.kind, current->value) : json()}});
  }
  co_return json_response({{"changes", changes}, {"version", ctx.domain.state().version()}});
}

awaitable<api::response> activate(context& ctx, api::request_context&) {
  if (ctx.domain.state().staged().empty()) {
    co_return api::error_response(make_error(errc::conflict, "there are no staged changes"));
  }
  write_request request{write_request::type::activate, {}};
  co_return co_await commit(ctx, std::move(request));
}

awaitable<api::response> discard(context& ctx, api::request_context&) {
  write_request request{write_request::type::discard, {}};
  co_return co_await commit(ctx, std::move(request));
}

awaitable<api::response> export_backup(context& ctx, api::request_context&) {
  co_return json_response(ctx.domain.state().export_backup(ctx.node.cluster));
}

awaitable<api::response> import_backup(context& ctx, api::request_context& r) {
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  auto request = domain::import_request(*body);
  if (!request)
    co_return api::error_response(request.err());
  co_return co_await commit(ctx, std::move(*request));
}

}  // namespace

void add_domain_routes(api::router& router, context& ctx) {
  using api::access;
  const std::string object = "/api/v1/domain/{kind}/{name}";
  router.add(http::verb::get, "/api/v1/domain/{kind}", access::authenticated,
             [&ctx](api::request_context& r) { return list_objects(ctx, r); });
  router.add(http::verb::get, object, access::authenticated,
             [&ctx](api::request_context& r) { return get_object(ctx, r); });
  router.add(http::verb::put, object, access::admin,
             [&ctx](api::request_context& r) { return put_object(ctx, r); });
  router.add(http::verb::delete_, object, access::admin,
             [&ctx](api::request_context& r) { return delete_object(ctx, r); });
  router.add(http::verb::get, "/api/v1/staged", access::authenticated,
             [&ctx](api::request_context& r) { return list_staged(ctx, r); });
  router.add(http::verb::post, "/api/v1/staged/activate", access::admin,
             [&ctx](api::request_context& r) { return activate(ctx, r); });
  router.add(http::verb::delete_, "/api/v1/staged", access::admin,
             [&ctx](api::request_context& r) { return discard(ctx, r); });
  router.add(http::verb::get, "/api/v1/backup", access::admin,
             [&ctx](api::request_context& r) { return export_backup(ctx, r); });
  router.add(http::verb::post, "/api/v1/backup", access::admin,
             [&ctx](api::request_context& r) { return import_backup(ctx, r); });
}

}  // namespace vcube::daemon
