// Cluster status, join, node mode and removal (docs/api.md).
#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "api/encoding.h"
#include "api/tls.h"
#include "common/paths.h"
#include "common/time.h"
#include "daemon/handlers.h"
#include "domain/schema.h"
#include "env/files.h"

namespace vcube::daemon {
namespace {

using domain::change;
using domain::write_request;

bool is_member(context& ctx, uint32_t node_id) {
  const auto& members = ctx.link.members();
  return std::any_of(members.begin(), members.end(),
                     [&](const cluster::member& m) { return m.node_id == node_id; });
}

awaitable<api::response> cluster_status(context& ctx, api::request_context&) {
  const auto& q = ctx.link.quorum();
  json members = json::array();
  for (const auto& m : ctx.link.members()) {
    members.push_back({{"id", m.node_id}, {"name", m.name}, {"address", m.address}});
  }
  json nodes = json::array();
  for (const auto& o : ctx.domain.state().list("node")) {
    uint32_t id = o.value.value("id", 0u);
    nodes.push_back({{"id", id},
                     {"name", o.name},
                     {"addresses", o.value.value("addresses", json::array())},
                     {"mode", o.value.value("mode", "standby")},
                     {"is_member", is_member(ctx, id)}});
  }
  co_return json_response({{"cluster", ctx.node.cluster},
                           {"node", {{"id", ctx.node.node_id}, {"name", ctx.node.name}}},
                           {"connected", ctx.link.is_connected()},
                           {"synced", ctx.domain.is_synced()},
                           {"version", ctx.domain.state().version()},
                           {"checksum", ctx.domain.state().checksum()},
                           {"quorum",
                            {{"is_quorate", q.is_quorate},
                             {"total_votes", q.total_votes},
                             {"quorum_votes", q.quorum_votes},
                             {"expected_votes", q.expected_votes},
                             {"two_node", q.is_two_node}}},
                           {"members", members},
                           {"nodes", nodes}});
}

struct join_request {
  std::string user, password, name, address, csr;
  int64_t time = 0;
};

result<join_request> parse_join(const json& body) {
  if (auto s =
          reject_unknown_fields(body, {"user", "password", "name", "address", "time", "csr"}, "");
      !s) {
    return s.err();
  }
  join_request j;
  for (const char* key : {"password", "name", "address", "csr"}) {
    if (!body.contains(key) || !body[key].is_string()) {
      return make_error(errc::invalid_input, std::string(key) + " must be a string", key);
    }
  }
  if (!body.contains("time") || !body["time"].is_number_integer()) {
    return make_error(errc::invalid_input, "time must be the joining node's clock in unix seconds",
                      "time");
  }
  j.user = body.value("user", "admin");
  j.password = body["password"];
  j.name = body["name"];
  j.address = body["address"];
  j.csr = body["csr"];
  j.time = body["time"];
  return j;
}

awaitable<status> check_admin_password(context& ctx, const join_request& j) {
  auto user = ctx.domain.state().get("user", j.user);
  auto roles = user ? user->value.value("roles", json::array()) : json::array();
  bool is_admin =
      user && std::find(roles.begin(), roles.end(), "admin") != roles.end() &&
      co_await verify_password_off_loop(ctx, j.password, user->value.value("password_hash", ""));
  if (!is_admin)
    co_return make_error(errc::unauthorized, "wrong cluster admin password", "password");
  co_return ok_status();
}

status check_join(context& ctx, const join_request& j) {
  int64_t skew = std::llabs(unix_now_s() - j.time);
  if (skew > ctx.join_clock_skew_max.count()) {
    return make_error(errc::conflict,
                      "clock skew: the joining node's clock differs from " + ctx.node.name +
                          "'s by " + std::to_string(skew) + " s (limit " +
                          std::to_string(ctx.join_clock_skew_max.count()) +
                          " s); synchronise the clocks (NTP) and join again",
                      "time");
  }
  if (auto s = ctx.domain.writable(); !s)
    return s;
  for (const auto& o : ctx.domain.state().list("node")) {
    if (o.name == j.name) {
      return make_error(errc::conflict, "a node named '" + j.name + "' is already in the cluster",
                        "name");
    }
    for (const auto& a : o.value.value("addresses", json::array())) {
      if (a == j.address) {
        return make_error(errc::conflict,
                          "address " + j.address + " is already used by node " + o.name, "address");
      }
    }
  }
  return ok_status();
}

result<std::string> sign_node_csr(const std::string& ca_cert_pem, const std::string& ca_key_pem,
                                  const std::string& csr_pem) {
  auto ca_cert = api::cert_from_pem(ca_cert_pem);
  auto ca_key = api::key_from_pem(ca_key_pem);
  auto csr = api::csr_from_pem(csr_pem);
  if (!ca_cert)
    return ca_cert.err();
  if (!ca_key)
    return ca_key.err();
  if (!csr)
    return make_error(errc::invalid_input, "csr: " + csr.err().message, "csr");
  auto cert = api::sign_csr(*ca_cert, *ca_key, *csr);
  if (!cert)
    return cert.err();
  return api::to_pem(*cert);
}

uint32_t next_node_id(context& ctx) {
  uint32_t highest = 0;
  for (const auto& o : ctx.domain.state().list("node")) {
    highest = std::max(highest, o.value.value("id", 0u));
  }
  return highest + 1;
}

// The node's certificate, signed by the cluster CA before anything is
// written, so that a bad CSR leaves no half-joined node behind.
result<std::string> sign_with_cluster_ca(const std::string& csr_pem) {
  auto ca_cert = env::read_file(paths::ca_cert);
  auto ca_key = env::read_file(paths::ca_key);
  if (!ca_cert)
    return ca_cert.err();
  if (!ca_key)
    return ca_key.err();
  return sign_node_csr(*ca_cert, *ca_key, csr_pem);
}

// What the new node needs; read after its node object is applied, so that
// corosync.conf already lists it.
result<json> join_files(context& ctx) {
  auto ca_cert = env::read_file(paths::ca_cert);
  auto ca_key = env::read_file(paths::ca_key);
  auto conf = env::read_file(paths::corosync_conf);
  auto authkey = env::read_file(paths::corosync_authkey);
  for (const auto* r : {&ca_cert, &ca_key, &conf, &authkey}) {
    if (!*r)
      return r->err();
  }
  return json{{"cluster", ctx.node.cluster},
              {"corosync_conf", *conf},
              {"corosync_authkey", api::base64_encode_std(*authkey)},
              {"auth_key", api::base64_encode_std(ctx.auth_secret)},
              {"ca_cert", *ca_cert},
              {"ca_key", *ca_key}};
}

awaitable<api::response> join(context& ctx, api::request_context& r) {
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  auto j = parse_join(*body);
  if (!j)
    co_return api::error_response(j.err());
  if (auto s = co_await check_admin_password(ctx, *j); !s)
    co_return api::error_response(s.err());
  if (auto s = check_join(ctx, *j); !s)
    co_return api::error_response(s.err());
  auto cert = sign_with_cluster_ca(j->csr);
  if (!cert)
    co_return api::error_response(cert.err());
  uint32_t node_id = next_node_id(ctx);
  json node = {{"id", node_id}, {"addresses", {j->address}}, {"mode", "standby"}};
  if (auto s = domain::validate_object("node", j->name, node); !s) {
    co_return api::error_response(s.err());
  }
  // (Requests are built before co_await: GCC 12 miscompiles braced aggregates there.)
  write_request request{write_request::type::apply,
                        {change{change::op_type::put, "node", j->name, node, 0}}};
  auto written = co_await commit(ctx, std::move(request));
  if (written.status != 200)
    co_return written;
  // The write's apply hook has rewritten corosync.conf with the new node.
  auto payload = join_files(ctx);
  if (!payload)
    co_return api::error_response(payload.err());
  (*payload)["node_id"] = node_id;
  (*payload)["node_cert"] = *cert;
  co_return json_response(*payload);
}

awaitable<api::response> set_mode(context& ctx, api::request_context& r) {
  auto body = r.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s = reject_unknown_fields(*body, {"mode"}, ""); !s)
    co_return api::error_response(s.err());
  std::string mode = body->value("mode", "");
  if (mode != "online" && mode != "standby") {
    co_return api::error_response(
        make_error(errc::invalid_input, "mode must be 'online' or 'standby'", "mode"));
  }
  auto node = ctx.domain.state().get("node", r.params.at("name"));
  if (!node) {
    co_return api::error_response(
        make_error(errc::not_found, "node '" + r.params.at("name") + "' does not exist"));
  }
  node->value["mode"] = mode;
  write_request request{
      write_request::type::apply,
      {change{change::op_type::put, "node", node->name, node->value, node->version}}};
  co_return co_await commit(ctx, std::move(request));
}

// A removed node leaves the fence devices that power it (a device that powered
// only that node goes, with its status) and its fence record.
std::vector<change> fencing_without(const domain::store& store, const std::string& node) {
  std::vector<change> out;
  for (const auto& device : store.list("fence_device")) {
    json nodes = device.value.value("nodes", json::object());
    if (!nodes.contains(node))
      continue;
    nodes.erase(node);
    if (!nodes.empty()) {
      json value = device.value;
      value["nodes"] = std::move(nodes);
      out.push_back(
          {change::op_type::put, "fence_device", device.name, std::move(value), device.version});
      continue;
    }
    out.push_back({change::op_type::remove, "fence_device", device.name, json(), device.version});
    if (auto status = store.get("fence_status", device.name))
      out.push_back(
          {change::op_type::remove, "fence_status", device.name, json(), status->version});
  }
  if (auto fence = store.get("ha_fence", node))
    out.push_back({change::op_type::remove, "ha_fence", node, json(), fence->version});
  return out;
}

awaitable<api::response> remove_node(context& ctx, api::request_context& r) {
  auto node = ctx.domain.state().get("node", r.params.at("name"));
  if (!node) {
    co_return api::error_response(
        make_error(errc::not_found, "node '" + r.params.at("name") + "' does not exist"));
  }
  uint32_t id = node->value.value("id", 0u);
  if (id == ctx.node.node_id) {
    co_return api::error_response(make_error(
        errc::conflict, "a node cannot remove itself; run `vcube node remove` on another node"));
  }
  bool is_forced = r.query.contains("force") && r.query.at("force") != "0";
  if (is_member(ctx, id) && !is_forced) {
    co_return api::error_response(make_error(
        errc::conflict, "node '" + node->name +
                            "' is still a running cluster member; stop its services or power it "
                            "off first (or force the removal)"));
  }
  write_request request{
      write_request::type::apply,
      {change{change::op_type::remove, "node", node->name, json(), node->version}}};
  for (auto& c : fencing_without(ctx.domain.state(), node->name))
    request.changes.push_back(std::move(c));
  co_return co_await commit(ctx, std::move(request));
}

}  // namespace

void add_cluster_routes(api::router& router, context& ctx) {
  using api::access;
  router.add(http::verb::get, "/api/v1/cluster/status", access::authenticated,
             [&ctx](api::request_context& r) { return cluster_status(ctx, r); });
  router.add(http::verb::post, "/api/v1/cluster/join", access::public_,
             [&ctx](api::request_context& r) { return join(ctx, r); });
  router.add(http::verb::post, "/api/v1/nodes/{name}/mode", access::admin,
             [&ctx](api::request_context& r) { return set_mode(ctx, r); });
  router.add(http::verb::delete_, "/api/v1/nodes/{name}", access::admin,
             [&ctx](api::request_context& r) { return remove_node(ctx, r); });
}

}  // namespace vcube::daemon
