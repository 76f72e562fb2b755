#include "daemon/handlers.h"

#include "api/password.h"
#include "daemon/off_loop.h"
#include "fence/fence_device.h"

namespace vcube::daemon {

void add_route(api::router& router, context& ctx, http::verb verb, const char* pattern,
               api::access level, handler_fn fn) {
  router.add(verb, pattern, level, [&ctx, fn](api::request_context& r) { return fn(ctx, r); });
}

api::response json_response(json body, unsigned status) {
  api::response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

awaitable<api::response> commit(context& ctx, domain::write_request request) {
  auto version = co_await ctx.domain.write(std::move(request), ctx.write_deadline);
  if (!version)
    co_return api::error_response(version.err());
  co_return json_response({{"version", *version}});
}

awaitable<bool> verify_password_off_loop(context& ctx, std::string password, std::string encoded) {
  std::function<bool()> verify = [password = std::move(password), encoded = std::move(encoded)] {
    return api::verify_password(password, encoded);
  };
  co_return co_await off_loop(*ctx.slow_work, std::move(verify));
}

json redact_fence_device(json value) {
  auto redact = [](json& options) {
    if (!options.is_object())
      return;
    for (auto& [key, v] : options.items())
      if (fence::is_secret_option(key))
        v = fence::redacted_value;
  };
  if (value.contains("options"))
    redact(value["options"]);
  if (value.contains("nodes") && value["nodes"].is_object())
    for (auto& [node, options] : value["nodes"].items())
      redact(options);
  return value;
}

json public_value(std::string_view kind, const json& value) {
  if (!value.is_object())
    return value;
  if (kind == "fence_device")
    return redact_fence_device(value);
  if (kind != "user")
    return value;
  json shown = value;
  shown.erase("password_hash");
  return shown;
}

}  // namespace vcube::daemon
