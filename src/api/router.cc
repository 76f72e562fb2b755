#include "api/router.h"

#include <algorithm>
#include <cassert>

#include "api/url.h"

namespace vcube::api {
namespace {

// "/a/b/c" → {"a", "b", "c"}; "/" → {""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  assert(!path.empty() && path.front() == '/');
  path.remove_prefix(1);
  for (;;) {
    size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      return parts;
    path.remove_prefix(slash + 1);
  }
}

response plain_error(unsigned status, std::string_view code, std::string message) {
  response r;
  r.status = status;
  r.body = {{"error", {{"code", code}, {"message", std::move(message)}, {"field", ""}}}};
  return r;
}

}  // namespace

void router::add(http::verb method, std::string pattern, access level, handler fn) {
  assert(fn);
  add_route(route{method, std::move(pattern), {}, level, std::move(fn), {}});
}

void router::add_websocket(std::string pattern, access level, websocket_handler fn) {
  assert(fn);
  add_route(route{http::verb::get, std::move(pattern), {}, level, {}, std::move(fn)});
}

void router::add_route(route r) {
  assert(!r.pattern.empty() && r.pattern.front() == '/');
  for (std::string_view part : split_path(r.pattern)) {
    bool is_param = part.size() > 2 && part.front() == '{' && part.back() == '}';
    r.segments.push_back(
        {is_param, std::string(is_param ? part.substr(1, part.size() - 2) : part)});
  }
  assert(std::none_of(routes_.begin(), routes_.end(), [&](const route& other) {
    return other.method == r.method && other.pattern == r.pattern;
  }));
  routes_.push_back(std::move(r));
}

bool router::matches(const route& r, const std::vector<std::string>& path,
                     std::map<std::string, std::string>* params) {
  if (r.segments.size() != path.size())
    return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const segment& s = r.segments[i];
    if (s.is_param ? path[i].empty() : s.text != path[i])
      return false;
  }
  for (size_t i = 0; params != nullptr && i < path.size(); ++i) {
    if (r.segments[i].is_param)
      (*params)[r.segments[i].text] = path[i];
  }
  return true;
}

std::variant<route_match, response> router::find(http::verb method, std::string_view target) const {
  auto [raw_path, raw_query] = split_target(target);
  if (raw_path.empty() || raw_path.front() != '/')
    return plain_error(400, "invalid_input", "request target must start with '/'");
  std::vector<std::string> path;
  for (std::string_view part : split_path(raw_path)) {
    auto decoded = percent_decode(part, false);
    if (!decoded)
      return error_response(make_error(errc::invalid_input, "bad percent-encoding in the path"));
    path.push_back(std::move(*decoded));
  }
  std::string allowed;
  for (const route& r : routes_) {
    if (r.method != method) {
      if (matches(r, path, nullptr))
        allowed += (allowed.empty() ? "" : ", ") + std::string(http::to_string(r.method));
      continue;
    }
    route_match m{
        r.fn ? &r.fn : nullptr, r.websocket_fn ? &r.websocket_fn : nullptr, r.level, {}, {}};
    if (!matches(r, path, &m.params))
      continue;
    auto query = parse_query(raw_query);
    if (!query)
      return error_response(query.err());
    m.query = std::move(*query);
    return m;
  }
  if (allowed.empty())
    return error_response(make_error(errc::not_found, "no such path: " + std::string(raw_path)));
  response r = plain_error(405, "method_not_allowed",
                           std::string(http::to_string(method)) + " is not allowed on " +
                               std::string(raw_path) + " (allowed: " + allowed + ")");
  r.headers.emplace_back("Allow", allowed);
  return r;
}

}  // namespace vcube::api
