#include <chrono>

#include "api/dispatch.h"
#include "api/token.h"
#include "common/time.h"
#include "daemon/handlers.h"

namespace vcube::daemon {
namespace {

std::vector<std::string> effective_roles(const domain::store& store, const json& user) {
  std::vector<std::string> roles = user.value("roles", std::vector<std::string>{});
  for (const auto& group_name : user.value("groups", std::vector<std::string>{})) {
    auto group = store.get("group", group_name);
    if (!group)
      continue;
    for (const auto& role : group->value.value("roles", std::vector<std::string>{})) {
      roles.push_back(role);
    }
  }
  return roles;
}

awaitable<api::response> health(context& ctx, api::request_context&) {
  co_return json_response({{"status", "ok"},
                           {"node", ctx.node.name},
                           {"node_id", ctx.node.node_id},
                           {"version", ctx.domain.state().version()}});
}

awaitable<api::response> login(context& ctx, api::request_context& request) {
  auto body = request.body_json();
  if (!body)
    co_return api::error_response(body.err());
  if (auto s = reject_unknown_fields(*body, {"user", "password"}, ""); !s) {
    co_return api::error_response(s.err());
  }
  if (!(*body)["user"].is_string() || !(*body)["password"].is_string()) {
    co_return api::error_response(
        make_error(errc::invalid_input, "user and password must be strings", "user"));
  }
  std::string user = (*body)["user"];
  auto object = ctx.domain.state().get("user", user);
  bool is_valid = object && object->value.value("enabled", true) &&
                  co_await verify_password_off_loop(ctx, (*body)["password"],
                                                    object->value.value("password_hash", ""));
  if (!is_valid) {
    co_return api::error_response(make_error(errc::unauthorized, "wrong user name or password"));
  }
  int64_t expires = unix_now_s() + ctx.token_lifetime.count();
  std::string token = api::token_signer(ctx.auth_secret).issue(user, expires);
  auto response = json_response({{"token", token},
                                 {"user", user},
                                 {"roles", effective_roles(ctx.domain.state(), object->value)},
                                 {"expires", expires}});
  response.headers.push_back(api::token_cookie_header(token, ctx.token_lifetime.count()));
  co_return response;
}

}  // namespace

result<api::principal> authenticate(context& ctx, std::string_view token) {
  auto user = api::token_signer(ctx.auth_secret).verify(token, unix_now_s());
  if (!user)
    return user.err();
  if (*user == "root")
    return api::principal{"root", {"admin"}};
  auto object = ctx.domain.state().get("user", *user);
  if (!object || !object->value.value("enabled", true)) {
    return make_error(errc::unauthorized, "user '" + *user + "' no longer exists or is disabled");
  }
  return api::principal{*user, effective_roles(ctx.domain.state(), object->value)};
}

void add_session_routes(api::router& router, context& ctx) {
  router.add(http::verb::get, "/api/v1/health", api::access::public_,
             [&ctx](api::request_context& r) { return health(ctx, r); });
  router.add(http::verb::post, "/api/v1/login", api::access::public_,
             [&ctx](api::request_context& r) { return login(ctx, r); });
}

}  // namespace vcube::daemon
