#include "domain/backup.h"

#include "domain/schema.h"
#include "domain/store.h"

namespace vcube::domain {

json store::export_backup(std::string cluster_name) const {
  json objects = json::object();
  for (const auto& [kind, by_name] : objects_)
    for (const auto& [name, o] : by_name)
      objects[kind][name] = o.value;
  return {{"format", "vcube-domain-backup"},
          {"format_version", 1},
          {"cluster", std::move(cluster_name)},
          {"version", version_},
          {"objects", std::move(objects)}};
}

result<write_request> import_request(const json& backup) {
  if (auto s = reject_unknown_fields(
          backup, {"format", "format_version", "cluster", "version", "objects"}, "");
      !s)
    return s.err();
  if (backup.value("format", json()) != "vcube-domain-backup")
    return make_error(errc::invalid_input,
                      "not a vcube backup (format must be \"vcube-domain-backup\")", "format");
  if (backup.value("format_version", json()) != 1)
    return make_error(errc::invalid_input,
                      "unsupported backup format_version (this vcubed reads 1)", "format_version");
  auto objects = backup.find("objects");
  if (objects == backup.end() || !objects->is_object())
    return make_error(errc::invalid_input, "'objects' must be an object of kinds", "objects");
  write_request r{write_request::type::import, {}};
  for (const auto& [kind, by_name] : objects->items()) {
    if (!is_known_kind(kind) || !by_name.is_object())
      return make_error(errc::invalid_input, "unknown kind '" + kind + "' in the backup",
                        "objects." + kind);
    if (is_runtime_kind(kind))  // kept by the import
      continue;
    for (const auto& [name, value] : by_name.items()) {
      if (auto s = validate_object(kind, name, value); !s)
        return s.err();
      if (r.changes.size() >= import_objects_max)
        return make_error(errc::too_large, "the backup holds too many objects", "objects");
      r.changes.push_back(change{change::op_type::put, kind, name, value, std::nullopt});
    }
  }
  return r;
}

}  // namespace vcube::domain
