#include "daemon/handlers.h"

#include "api/password.h"

namespace vcube::daemon {

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

namespace {

awaitable<bool> verify_password_here(std::string password, std::string encoded) {
  co_return api::verify_password(password, encoded);
}

}  // namespace

awaitable<bool> verify_password_off_loop(context& ctx, std::string password, std::string encoded) {
  co_return co_await asio::co_spawn(
      *ctx.slow_work, verify_password_here(std::move(password), std::move(encoded)), use_awaitable);
}

json public_value(std::string_view kind, const json& value) {
  if (kind != "user" || !value.is_object())
    return value;
  json shown = value;
  shown.erase("password_hash");
  return shown;
}

}  // namespace vcube::daemon
