#include "daemon/handlers.h"

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

json public_value(std::string_view kind, const json& value) {
  if (kind != "user" || !value.is_object())
    return value;
  json shown = value;
  shown.erase("password_hash");
  return shown;
}

}  // namespace vcube::daemon
