#include "api/handler.h"

#include <algorithm>

namespace vcube::api {

bool principal::has_role(std::string_view role) const {
  return std::any_of(roles.begin(), roles.end(),
                     [&](const std::string& r) { return r == role || r == "admin"; });
}

result<json> request_context::body_json() const {
  if (request.body().empty())
    return make_error(errc::invalid_input, "request body must be a JSON object; it is empty");
  auto body = parse_json(request.body());
  if (!body)
    return body.err();
  if (!body->is_object())
    return make_error(errc::invalid_input,
                      std::string("request body must be a JSON object, not ") + body->type_name());
  return body;
}

std::optional<std::string> request_context::query_value(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end())
    return std::nullopt;
  return it->second;
}

response error_response(const error& e) {
  response r;
  r.status = static_cast<unsigned>(http_status(e.code));
  r.body = {{"error", {{"code", errc_name(e.code)}, {"message", e.message}, {"field", e.field}}}};
  return r;
}

}  // namespace vcube::api
