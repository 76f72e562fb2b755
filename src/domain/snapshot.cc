// store::snapshot / store::load_snapshot: the whole state as one JSON value,
// used by the sync protocol to copy the most recent state to other members.
#include "domain/schema.h"
#include "domain/store.h"

namespace vcube::domain {
namespace {

error bad(const std::string& message) {
  return make_error(errc::invalid_input, "snapshot: " + message);
}

result<object> object_from_json(const json& j, uint64_t snapshot_version) {
  if (auto s = reject_unknown_fields(j, {"kind", "name", "version", "value"}, "objects"); !s)
    return bad(s.err().message);
  auto kind = j.find("kind");
  auto name = j.find("name");
  auto version = j.find("version");
  auto value = j.find("value");
  if (kind == j.end() || !kind->is_string() || name == j.end() || !name->is_string() ||
      version == j.end() || !version->is_number_unsigned() || value == j.end())
    return bad("an object needs kind, name (strings), version (integer) and value");
  object o{kind->get<std::string>(), name->get<std::string>(), *value, version->get<uint64_t>()};
  if (auto s = validate_object(o.kind, o.name, o.value); !s)
    return bad(s.err().message);
  if (o.version == 0 || o.version > snapshot_version)
    return bad(o.kind + " '" + o.name + "' has version " + std::to_string(o.version) +
               " outside 1.." + std::to_string(snapshot_version));
  return o;
}

}  // namespace

json store::snapshot() const {
  json objects = json::array();
  for (const auto& [kind, by_name] : objects_)
    for (const auto& [name, o] : by_name)
      objects.push_back(
          {{"kind", kind}, {"name", name}, {"version", o.version}, {"value", o.value}});
  json staged = json::array();
  for (const auto& c : staged_)
    staged.push_back(change_to_json(c));
  return {{"format", "vcube-domain-snapshot"},
          {"format_version", 1},
          {"version", version_},
          {"objects", std::move(objects)},
          {"staged", std::move(staged)}};
}

status store::load_snapshot(const json& j) {
  if (auto s = reject_unknown_fields(
          j, {"format", "format_version", "version", "objects", "staged"}, "");
      !s)
    return bad(s.err().message);
  if (j.value("format", json()) != "vcube-domain-snapshot" ||
      j.value("format_version", json()) != 1)
    return bad("not a vcube-domain-snapshot of format_version 1");
  auto version = j.find("version");
  auto objects = j.find("objects");
  auto staged = j.find("staged");
  if (version == j.end() || !version->is_number_unsigned() || objects == j.end() ||
      !objects->is_array() || staged == j.end() || !staged->is_array())
    return bad("needs version (integer), objects and staged (arrays)");
  if (staged->size() > staged_changes_max)
    return bad("too many staged changes");
  state next{{}, {}, version->get<uint64_t>(), {}, true, true};
  for (const auto& oj : *objects) {
    auto o = object_from_json(oj, next.version);
    if (!o)
      return o.err();
    if (!next.objects[o->kind].emplace(o->name, *o).second)
      return bad(o->kind + " '" + o->name + "' appears twice");
  }
  for (const auto& cj : *staged) {
    auto c = change_from_json(cj);
    if (!c)
      return bad("staged change: " + c.err().message);
    auto s = c->op == change::op_type::put ? validate_object(c->kind, c->name, c->value)
                                           : validate_name(c->kind, c->name);
    if (!s)
      return bad("staged change: " + s.err().message);
    next.staged.push_back(std::move(*c));
  }
  return persist(std::move(next));
}

}  // namespace vcube::domain
