#include "esan/control_protocol.h"

#include <cstdio>

namespace vcube::esan::control {
namespace {

error bad(std::string message, std::string field) {
  return make_error(errc::invalid_input, std::move(message), std::move(field));
}

bool is_volume_name(std::string_view s) {
  if (s.empty() || s.size() > volume_name_bytes_max)
    return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

// The value of `key` when present; an error when it has the wrong type.
result<std::optional<std::string>> optional_string(const json& j, const char* key) {
  if (!j.contains(key))
    return std::optional<std::string>();
  if (!j[key].is_string())
    return bad(std::string(key) + " must be a string", key);
  return std::optional<std::string>(j[key].get<std::string>());
}

result<std::string> required_string(const json& j, const char* key) {
  auto v = optional_string(j, key);
  if (!v)
    return v.err();
  if (!*v)
    return bad(std::string(key) + " is required", key);
  return **v;
}

result<std::string> required_name(const json& j) {
  auto name = required_string(j, "name");
  if (name && !is_volume_name(*name))
    return bad("name is 1 to 64 characters of A-Z a-z 0-9 . _ -", "name");
  return name;
}

result<std::string> required_path(const json& j, const char* key) {
  auto path = required_string(j, key);
  if (path &&
      (path->empty() || path->size() > path_bytes_max || path->find('\0') != std::string::npos))
    return bad(std::string(key) + " is a path of 1 to 4096 bytes", key);
  return path;
}

result<std::optional<uint64_t>> optional_uint(const json& j, const char* key) {
  if (!j.contains(key))
    return std::optional<uint64_t>();
  if (!j[key].is_number_unsigned())
    return bad(std::string(key) + " must be a non-negative integer", key);
  return std::optional<uint64_t>(j[key].get<uint64_t>());
}

result<uint64_t> required_uint(const json& j, const char* key) {
  auto v = optional_uint(j, key);
  if (!v)
    return v.err();
  if (!*v)
    return bad(std::string(key) + " is required", key);
  return **v;
}

result<bool> optional_bool(const json& j, const char* key) {
  if (!j.contains(key))
    return false;
  if (!j[key].is_boolean())
    return bad(std::string(key) + " is true or false", key);
  return j[key].get<bool>();
}

status check_size(uint64_t size, const char* key) {
  if (size == 0 || size % volume_bytes_align != 0 || size > volume_bytes_max)
    return bad(std::string(key) + " must be a multiple of 4096 between 4096 and 64 TiB", key);
  return ok_status();
}

// Every parse_* below first rejects unknown fields, then reads its fields in
// order; the first problem is the answer.
#define TRY(var, expr) \
  auto var = (expr);   \
  if (!var)            \
    return var.err();

result<command> parse_create(const json& j) {
  if (auto s = reject_unknown_fields(
          j, {"op", "name", "data", "meta", "size", "generation", "primary", "region_bytes"}, "");
      !s)
    return s.err();
  TRY(name, required_name(j));
  TRY(data, required_path(j, "data"));
  TRY(meta, required_path(j, "meta"));
  TRY(size, required_uint(j, "size"));
  if (auto s = check_size(*size, "size"); !s)
    return s.err();
  TRY(generation, required_uint(j, "generation"));
  if (!j.contains("primary"))
    return bad("primary is required", "primary");
  TRY(primary, optional_bool(j, "primary"));
  TRY(region, optional_uint(j, "region_bytes"));
  uint64_t region_bytes = region->value_or(region_bytes_default);
  if (region_bytes < 4096 || region_bytes > (64u << 20) || (region_bytes & (region_bytes - 1)))
    return bad("region_bytes is a power of two from 4096 to 64 MiB", "region_bytes");
  return command{create_command{*name, *data, *meta, *size, *generation, *primary,
                                static_cast<uint32_t>(region_bytes)}};
}

result<std::optional<tcp_endpoint>> optional_endpoint(const json& j, const char* key) {
  TRY(text, optional_string(j, key));
  if (!*text)
    return std::optional<tcp_endpoint>();
  auto e = parse_tcp_endpoint(**text);
  if (!e)
    return bad(std::string(key) + " is ADDRESS:PORT, got '" + **text + "'", key);
  return std::optional<tcp_endpoint>(*e);
}

// Requests that name only a volume, plus `extra` optional fields.
result<std::string> name_only(const json& j, std::initializer_list<std::string_view> allowed) {
  if (auto s = reject_unknown_fields(j, allowed, ""); !s)
    return s.err();
  return required_name(j);
}

result<command> parse_detach(const json& j) {
  TRY(name, name_only(j, {"op", "name", "force"}));
  TRY(force, optional_bool(j, "force"));
  return command{detach_command{*name, *force}};
}

result<command> parse_delete(const json& j) {
  TRY(name, name_only(j, {"op", "name", "data", "meta"}));
  TRY(data, required_path(j, "data"));
  TRY(meta, required_path(j, "meta"));
  return command{delete_command{*name, *data, *meta}};
}

result<command> parse_promote(const json& j) {
  TRY(name, name_only(j, {"op", "name", "allow_two_primaries"}));
  TRY(two, optional_bool(j, "allow_two_primaries"));
  return command{promote_command{*name, *two}};
}

result<command> parse_status(const json& j) {
  if (auto s = reject_unknown_fields(j, {"op", "name"}, ""); !s)
    return s.err();
  if (!j.contains("name"))
    return command{status_command{std::nullopt}};
  TRY(name, required_name(j));
  return command{status_command{*name}};
}

result<command> parse_rate(const json& j) {
  TRY(name, name_only(j, {"op", "name", "bytes_per_second"}));
  TRY(rate, required_uint(j, "bytes_per_second"));
  return command{rate_command{*name, *rate}};
}

result<command> parse_resize(const json& j) {
  TRY(name, name_only(j, {"op", "name", "size"}));
  TRY(size, required_uint(j, "size"));
  if (auto s = check_size(*size, "size"); !s)
    return s.err();
  return command{resize_command{*name, *size}};
}

result<command> parse_resolve(const json& j) {
  TRY(name, name_only(j, {"op", "name", "discard"}));
  if (!j.contains("discard"))
    return bad("discard is required (true: this side's data is discarded)", "discard");
  TRY(discard, optional_bool(j, "discard"));
  if (!*discard)
    return bad("discard must be true: run resolve on the side whose data is to be discarded",
               "discard");
  return command{resolve_command{*name}};
}

std::string endpoint_text(const tcp_endpoint& e) {
  bool is_v6 = e.address.find(':') != std::string::npos;
  return (is_v6 ? "[" + e.address + "]" : e.address) + ":" + std::to_string(e.port);
}

result<command> parse_op(const std::string& op, const json& j) {
  if (op == "create")
    return parse_create(j);
  if (op == "attach") {
    TRY(a, parse_attach(j));
    return command{std::move(*a)};
  }
  if (op == "attach_remote") {
    TRY(a, parse_attach_remote(j));
    return command{std::move(*a)};
  }
  if (op == "detach")
    return parse_detach(j);
  if (op == "delete")
    return parse_delete(j);
  if (op == "promote")
    return parse_promote(j);
  if (op == "demote") {
    TRY(name, name_only(j, {"op", "name"}));
    return command{demote_command{*name}};
  }
  if (op == "status")
    return parse_status(j);
  if (op == "rate")
    return parse_rate(j);
  if (op == "resize")
    return parse_resize(j);
  if (op == "verify") {
    TRY(name, name_only(j, {"op", "name"}));
    return command{verify_command{*name}};
  }
  if (op == "resolve")
    return parse_resolve(j);
  if (op == "outdate_peer") {
    TRY(name, name_only(j, {"op", "name"}));
    return command{outdate_peer_command{*name}};
  }
  return bad("unknown op '" + op +
                 "' (create, attach, attach_remote, detach, delete, promote, demote, status, "
                 "rate, resize, verify, resolve, outdate_peer)",
             "op");
}

}  // namespace

bool same_volume(const attach_command& a, const attach_command& b) {
  auto same_endpoint = [](const std::optional<tcp_endpoint>& x,
                          const std::optional<tcp_endpoint>& y) {
    return x.has_value() == y.has_value() &&
           (!x || (x->address == y->address && x->port == y->port));
  };
  return a.volume.name == b.volume.name && a.volume.data_path == b.volume.data_path &&
         a.volume.meta_path == b.volume.meta_path &&
         same_endpoint(a.volume.listen, b.volume.listen) &&
         same_endpoint(a.volume.peer, b.volume.peer);
}

result<attach_command> parse_attach(const json& j) {
  if (auto s = reject_unknown_fields(
          j, {"op", "name", "data", "meta", "listen", "peer", "rate", "fencing"}, "");
      !s)
    return s.err();
  attach_command a;
  TRY(name, required_name(j));
  TRY(data, required_path(j, "data"));
  TRY(meta, required_path(j, "meta"));
  TRY(listen, optional_endpoint(j, "listen"));
  TRY(peer, optional_endpoint(j, "peer"));
  if (listen->has_value() == peer->has_value())
    return bad(
        "give exactly one of listen (this side waits for its peer) and peer (this side "
        "dials it)",
        listen->has_value() ? "peer" : "listen");
  TRY(rate, optional_uint(j, "rate"));
  TRY(fencing, optional_bool(j, "fencing"));
  a.volume = mirror_config{*name, *data, *meta, *listen, *peer};
  a.rate_bytes_per_s = rate->value_or(0);
  a.is_fencing = *fencing;
  return a;
}

result<attach_remote_command> parse_attach_remote(const json& j) {
  if (auto s = reject_unknown_fields(j, {"op", "name", "size", "servers"}, ""); !s)
    return s.err();
  TRY(name, required_name(j));
  TRY(size, required_uint(j, "size"));
  if (auto s = check_size(*size, "size"); !s)
    return s.err();
  if (!j.contains("servers") || !j["servers"].is_array() || j["servers"].empty() ||
      j["servers"].size() > remote_servers_max)
    return bad("servers is a list of 1 or 2 ADDRESS:PORT (the disk's nodes)", "servers");
  attach_remote_command a{remote_config{*name, *size, {}}};
  for (const auto& text : j["servers"]) {
    auto e = text.is_string() ? parse_tcp_endpoint(text.get<std::string>())
                              : result<tcp_endpoint>(bad("", ""));
    if (!e)
      return bad("servers holds ADDRESS:PORT strings, got " + text.dump(), "servers");
    a.remote.servers.push_back(*e);
  }
  return a;
}

#undef TRY

json attach_remote_json(const attach_remote_command& a) {
  json servers = json::array();
  for (const auto& e : a.remote.servers)
    servers.push_back(endpoint_text(e));
  return {{"name", a.remote.name}, {"size", a.remote.size_bytes}, {"servers", servers}};
}

json attach_json(const attach_command& a) {
  json j = {{"name", a.volume.name},
            {"data", a.volume.data_path},
            {"meta", a.volume.meta_path},
            {"rate", a.rate_bytes_per_s},
            {"fencing", a.is_fencing}};
  if (a.volume.listen)
    j["listen"] = endpoint_text(*a.volume.listen);
  if (a.volume.peer)
    j["peer"] = endpoint_text(*a.volume.peer);
  return j;
}

result<command> parse_request(std::string_view line) {
  if (line.size() > line_bytes_max)
    return bad("the request is longer than 64 KiB", "");
  auto parsed = parse_json(line);
  if (!parsed)
    return bad("the request is not JSON: " + parsed.err().message, "");
  const json& j = *parsed;
  if (!j.is_object())
    return bad("the request must be a JSON object", "");
  if (!j.contains("op"))
    return bad("op is required", "op");
  if (!j["op"].is_string())
    return bad("op must be a string", "op");
  return parse_op(j["op"].get<std::string>(), j);
}

// The "remotes" of a state file (absent in files from before diskless attach).
result<std::vector<attach_remote_command>> parse_state_remotes(const json& j) {
  std::vector<attach_remote_command> out;
  if (!j.contains("remotes"))
    return out;
  if (!j["remotes"].is_array())
    return bad("remotes must be a list", "remotes");
  for (const auto& v : j["remotes"]) {
    if (!v.is_object() || v.contains("op"))
      return bad("a remote is an object of name, size and servers", "remotes");
    auto a = parse_attach_remote(v);
    if (!a)
      return make_error(errc::invalid_input, a.err().message, "remotes." + a.err().field);
    out.push_back(std::move(*a));
  }
  return out;
}

result<saved_state> parse_state(std::string_view text) {
  auto parsed = parse_json(text);
  if (!parsed)
    return parsed.err();
  const json& j = *parsed;
  if (auto s = reject_unknown_fields(j, {"volumes", "remotes"}, ""); !s)
    return s.err();
  if (!j.contains("volumes") || !j["volumes"].is_array())
    return bad("volumes must be a list", "volumes");
  auto remotes = parse_state_remotes(j);
  if (!remotes)
    return remotes.err();
  saved_state out{{}, std::move(*remotes)};
  for (const auto& v : j["volumes"]) {
    if (!v.is_object())
      return bad("a volume must be an object", "volumes");
    if (v.contains("op"))
      return bad("unknown field 'op'", "volumes.op");
    auto a = parse_attach(v);
    if (!a)
      return make_error(errc::invalid_input, a.err().message, "volumes." + a.err().field);
    out.volumes.push_back(std::move(*a));
  }
  return out;
}

std::string state_text(const saved_state& state) {
  json volumes = json::array();
  for (const auto& v : state.volumes)
    volumes.push_back(attach_json(v));
  json remotes = json::array();
  for (const auto& r : state.remotes)
    remotes.push_back(attach_remote_json(r));
  return json{{"volumes", volumes}, {"remotes", remotes}}.dump(2) + "\n";
}

const char* reply_code(errc code) {
  switch (code) {
    case errc::invalid_input:
    case errc::too_large:
      return "invalid_input";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
    case errc::forbidden:
      return "conflict";
    case errc::unavailable:
    case errc::timeout:
    case errc::no_quorum:
      return "unavailable";
    default:
      return "io";
  }
}

std::string reply_ok(json fields) {
  json j = {{"ok", true}};
  for (auto it = fields.begin(); it != fields.end(); ++it)
    j[it.key()] = it.value();
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string reply_error(const error& e) {
  json j = {{"ok", false}, {"error", e.message}, {"code", reply_code(e.code)}};
  if (!e.field.empty())
    j["field"] = e.field;
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

json status_json(const volume_status& s) {
  char generation[17];
  std::snprintf(generation, sizeof generation, "%016llx",
                static_cast<unsigned long long>(s.generation));
  json verify = {{"state", s.verify.state},
                 {"percent", s.verify.percent},
                 {"differing_regions", s.verify.differing_regions},
                 {"differing_bytes", s.verify.differing_bytes},
                 {"first_differences", s.verify.first_differences}};
  if (!s.verify.message.empty())
    verify["message"] = s.verify.message;
  return {{"name", s.name},
          {"size", s.size_bytes},
          {"role", s.role},
          {"peer_role", s.peer_role},
          {"connected", s.is_connected},
          {"disk_state", s.disk_state},
          {"peer_disk_state", s.peer_disk_state},
          {"percent", s.percent},
          {"out_of_sync_bytes", s.out_of_sync_bytes},
          {"resynced_bytes", s.resynced_bytes},
          {"rate", s.rate_bytes_per_s},
          {"message", s.message},
          {"nbd_clients", s.nbd_clients},
          {"generation", generation},
          {"fencing", s.is_fencing},
          {"suspended", s.is_suspended},
          {"verify", verify}};
}

json remote_status_json(const remote_config& c, const remote_status& s, uint64_t nbd_clients) {
  json servers = json::array();
  for (const auto& e : c.servers)
    servers.push_back(endpoint_text(e));
  return {{"name", c.name},
          {"size", c.size_bytes},
          {"servers", servers},
          {"server", s.server},
          {"connected", s.is_connected},
          {"message", s.message},
          {"nbd_clients", nbd_clients}};
}

}  // namespace vcube::esan::control
