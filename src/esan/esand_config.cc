#include "esan/esand_config.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/json.h"

namespace vcube::esan {
namespace {

result<export_config> parse_export_json(const json& j, const std::string& where) {
  if (!j.is_object())
    return make_error(errc::invalid_input, "an export must be an object", where);
  if (auto s = reject_unknown_fields(j, {"name", "path", "read_only"}, where); !s)
    return s.err();
  export_config e;
  if (!j.contains("name") || !j["name"].is_string())
    return make_error(errc::invalid_input, "an export needs a string name", where + ".name");
  if (!j.contains("path") || !j["path"].is_string())
    return make_error(errc::invalid_input, "an export needs a string path", where + ".path");
  e.name = j["name"].get<std::string>();
  e.path = j["path"].get<std::string>();
  if (j.contains("read_only")) {
    if (!j["read_only"].is_boolean())
      return make_error(errc::invalid_input, "read_only is true or false", where + ".read_only");
    e.is_read_only = j["read_only"].get<bool>();
  }
  return e;
}

status parse_strings(const json& j, const char* key, std::vector<std::string>& out) {
  if (!j.contains(key))
    return ok_status();
  if (!j[key].is_array())
    return make_error(errc::invalid_input, std::string(key) + " must be a list of strings", key);
  for (const auto& v : j[key]) {
    if (!v.is_string())
      return make_error(errc::invalid_input, std::string(key) + " must be a list of strings", key);
    out.push_back(v.get<std::string>());
  }
  return ok_status();
}

}  // namespace

result<esand_config> parse_config_json(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed)
    return parsed.err();
  const json& j = *parsed;
  if (!j.is_object())
    return make_error(errc::invalid_input, "the configuration must be a JSON object");
  if (auto s = reject_unknown_fields(j, {"exports", "unix", "tcp"}, ""); !s)
    return s.err();
  esand_config c;
  if (j.contains("exports")) {
    if (!j["exports"].is_array())
      return make_error(errc::invalid_input, "exports must be a list", "exports");
    for (size_t i = 0; i < j["exports"].size(); ++i) {
      auto e = parse_export_json(j["exports"][i], "exports[" + std::to_string(i) + "]");
      if (!e)
        return e.err();
      c.exports.push_back(std::move(*e));
    }
  }
  if (auto s = parse_strings(j, "unix", c.unix_paths); !s)
    return s.err();
  std::vector<std::string> tcp;
  if (auto s = parse_strings(j, "tcp", tcp); !s)
    return s.err();
  for (const auto& t : tcp) {
    auto endpoint = parse_tcp_endpoint(t);
    if (!endpoint)
      return endpoint.err();
    c.tcp_endpoints.push_back(*endpoint);
  }
  return c;
}

result<export_config> parse_export_flag(std::string_view text, bool is_read_only) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return make_error(errc::invalid_input,
                      "--export takes NAME=PATH, got '" + std::string(text) + "'", "export");
  return export_config{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)),
                       is_read_only};
}

result<tcp_endpoint> parse_tcp_endpoint(std::string_view text) {
  const size_t colon = text.rfind(':');
  const auto bad =
      make_error(errc::invalid_input,
                 "a TCP endpoint is ADDRESS:PORT, got '" + std::string(text) + "'", "tcp");
  if (colon == std::string_view::npos || colon == 0)
    return bad;
  std::string_view address = text.substr(0, colon);
  if (address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      address.empty())
    return bad;
  return tcp_endpoint{std::string(address), static_cast<uint16_t>(port)};
}

result<mirror_config> parse_mirror_flag(std::string_view text) {
  mirror_config m;
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_input, "--mirror " + std::string(text) + ": " + why, "mirror");
  };
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = std::min(text.find(',', at), text.size());
    std::string_view part = text.substr(at, comma - at);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size())
      return bad("expected key=value, got '" + std::string(part) + "'");
    std::string key(part.substr(0, eq));
    std::string_view value = part.substr(eq + 1);
    if (key == "name") {
      m.name = value;
    } else if (key == "data") {
      m.data_path = value;
    } else if (key == "meta") {
      m.meta_path = value;
    } else if (key == "listen" || key == "peer") {
      auto endpoint = parse_tcp_endpoint(value);
      if (!endpoint)
        return bad(endpoint.err().message);
      (key == "listen" ? m.listen : m.peer) = *endpoint;
    } else {
      return bad("unknown key '" + key + "' (name, data, meta, listen, peer)");
    }
    at = comma + 1;
  }
  if (m.name.empty() || m.data_path.empty() || m.meta_path.empty())
    return bad("name, data and meta are required");
  if (m.listen.has_value() == m.peer.has_value())
    return bad("give listen (this side waits for the peer) or peer (this side dials it)");
  return m;
}

status validate(const esand_config& c) {
  if (c.exports.empty() && c.mirrors.empty() && c.control_path.empty())
    return make_error(errc::invalid_input,
                      "nothing to serve: give at least one export or a control socket", "exports");
  if (c.unix_paths.empty() && c.tcp_endpoints.empty())
    return make_error(errc::invalid_input,
                      "nowhere to listen: give a unix socket or a TCP endpoint", "unix");
  std::set<std::string> names;
  for (const auto& e : c.exports) {
    if (e.name.empty() || e.name.size() > 4096)
      return make_error(errc::invalid_input, "an export name has 1 to 4096 bytes", "exports.name");
    if (!names.insert(e.name).second)
      return make_error(errc::invalid_input, "export '" + e.name + "' is given twice",
                        "exports.name");
  }
  for (const auto& m : c.mirrors)
    if (!names.insert(m.name).second)
      return make_error(errc::invalid_input, "export '" + m.name + "' is given twice",
                        "mirrors.name");
  return ok_status();
}

}  // namespace vcube::esan
