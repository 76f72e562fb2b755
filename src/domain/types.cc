#include "domain/types.h"

namespace vcube::domain {

const char* type_name(write_request::type t) {
  switch (t) {
    case write_request::type::apply:
      return "apply";
    case write_request::type::stage:
      return "stage";
    case write_request::type::activate:
      return "activate";
    case write_request::type::discard:
      return "discard";
    case write_request::type::import:
      return "import";
  }
  return "apply";
}

const char* op_name(change::op_type op) {
  return op == change::op_type::put ? "put" : "remove";
}

std::string dump_compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json change_to_json(const change& c) {
  json j = {{"op", op_name(c.op)}, {"kind", c.kind}, {"name", c.name}};
  if (c.op == change::op_type::put)
    j["value"] = c.value;
  if (c.base_version)
    j["base_version"] = *c.base_version;
  return j;
}

namespace {

error bad(std::string message, std::string field) {
  return make_error(errc::invalid_input, std::move(message), std::move(field));
}

result<std::string> string_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end())
    return bad(std::string("missing field '") + key + "'", key);
  if (!it->is_string())
    return bad(std::string("field '") + key + "' must be a string", key);
  return it->get<std::string>();
}

}  // namespace

result<change> change_from_json(const json& j) {
  auto known = reject_unknown_fields(j, {"op", "kind", "name", "value", "base_version"}, "");
  if (!known)
    return known.err();
  change c;
  auto op = string_field(j, "op");
  auto kind = string_field(j, "kind");
  auto name = string_field(j, "name");
  if (!op)
    return op.err();
  if (!kind)
    return kind.err();
  if (!name)
    return name.err();
  if (*op == "put") {
    c.op = change::op_type::put;
    if (!j.contains("value"))
      return bad("a put needs a 'value'", "value");
    c.value = j["value"];
  } else if (*op == "remove") {
    c.op = change::op_type::remove;
    if (j.contains("value"))
      return bad("a remove takes no 'value'", "value");
  } else {
    return bad("op must be 'put' or 'remove' (got '" + *op + "')", "op");
  }
  c.kind = std::move(*kind);
  c.name = std::move(*name);
  if (auto it = j.find("base_version"); it != j.end()) {
    if (!it->is_number_unsigned())
      return bad("base_version must be a non-negative integer", "base_version");
    c.base_version = it->get<uint64_t>();
  }
  return c;
}

json request_to_json(const write_request& r) {
  json changes = json::array();
  for (const auto& c : r.changes)
    changes.push_back(change_to_json(c));
  return {{"type", type_name(r.kind)}, {"changes", std::move(changes)}};
}

result<write_request> request_from_json(const json& j) {
  auto known = reject_unknown_fields(j, {"type", "changes"}, "");
  if (!known)
    return known.err();
  auto type = string_field(j, "type");
  if (!type)
    return type.err();
  write_request r;
  bool found = false;
  for (auto t :
       {write_request::type::apply, write_request::type::stage, write_request::type::activate,
        write_request::type::discard, write_request::type::import}) {
    if (*type == type_name(t)) {
      r.kind = t;
      found = true;
    }
  }
  if (!found)
    return bad("unknown request type '" + *type + "'", "type");
  auto it = j.find("changes");
  if (it == j.end() || !it->is_array())
    return bad("'changes' must be an array", "changes");
  if (it->size() > import_objects_max)
    return bad("too many changes in one request", "changes");
  for (const auto& cj : *it) {
    auto c = change_from_json(cj);
    if (!c)
      return c.err();
    r.changes.push_back(std::move(*c));
  }
  return r;
}

}  // namespace vcube::domain
