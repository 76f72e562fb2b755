// store::apply: computes the state a request produces, checks every rule on
// it, and only then persists it.
#include <set>

#include "domain/rules.h"
#include "domain/schema.h"
#include "domain/store.h"

namespace vcube::domain {
namespace {

std::string describe(const change& c) {
  return std::string(op_name(c.op)) + " " + c.kind + " '" + c.name + "'";
}

// Per-change checks that need no state.
status validate_change(const change& c) {
  if (c.op == change::op_type::remove) {
    if (auto s = validate_name(c.kind, c.name); !s)
      return s;
    if (c.kind == "cluster")
      return make_error(errc::invalid_input, "the cluster object cannot be removed", "name");
    return ok_status();
  }
  if (auto s = validate_object(c.kind, c.name, c.value); !s)
    return s;
  if (dump_compact(c.value).size() > value_bytes_max)
    return make_error(errc::too_large,
                      c.kind + " '" + c.name + "': the value is larger than " +
                          std::to_string(value_bytes_max) + " bytes",
                      "value");
  return ok_status();
}

status validate_changes(const std::vector<change>& changes, size_t max) {
  if (changes.size() > max)
    return make_error(errc::too_large, "a request holds at most " + std::to_string(max) +
                                           " changes (got " + std::to_string(changes.size()) + ")");
  for (const auto& c : changes)
    if (auto s = validate_change(c); !s)
      return s;
  return ok_status();
}

const object* find(const store::kind_map& objects, const std::string& kind,
                   const std::string& name) {
  auto k = objects.find(kind);
  if (k == objects.end())
    return nullptr;
  auto o = k->second.find(name);
  return o == k->second.end() ? nullptr : &o->second;
}

std::vector<object> list_of(const store::kind_map& objects, const char* kind) {
  std::vector<object> out;
  if (auto k = objects.find(kind); k != objects.end())
    for (const auto& [name, o] : k->second)
      out.push_back(o);
  return out;
}

// Applies one change to `objects` at `version`, checking base_version.
status apply_change(store::kind_map& objects, const change& c, uint64_t version) {
  const object* current = find(objects, c.kind, c.name);
  uint64_t current_version = current ? current->version : 0;
  if (c.op == change::op_type::remove && !current)
    return make_error(errc::not_found, c.kind + " '" + c.name + "' does not exist", "name");
  if (c.base_version && *c.base_version != current_version) {
    std::string what =
        *c.base_version == 0 ? " already exists (version " + std::to_string(current_version) + ")"
        : current            ? " is at version " + std::to_string(current_version) + ", not " +
                        std::to_string(*c.base_version) +
                        "; it changed since you read it: read it again and retry"
                  : " does not exist (expected version " + std::to_string(*c.base_version) + ")";
    return make_error(errc::conflict, c.kind + " '" + c.name + "'" + what, "base_version");
  }
  if (c.op == change::op_type::remove)
    objects[c.kind].erase(c.name);
  else
    objects[c.kind][c.name] = object{c.kind, c.name, c.value, version};
  return ok_status();
}

status check_rules(const store::kind_map& before, const store::kind_map& after,
                   const std::set<std::string>& removed_groups, const touched_objects& touched) {
  if (auto s = check_nodes(list_of(after, "node")); !s)
    return s;
  auto users = list_of(after, "user");
  auto groups = list_of(after, "group");
  if (auto s = check_user_groups(users, groups, removed_groups); !s)
    return s;
  if (count_admins(list_of(before, "user"), list_of(before, "group")) > 0 &&
      count_admins(users, groups) == 0)
    return make_error(errc::conflict,
                      "this change would leave no enabled user with the admin role; give "
                      "another user the admin role first");
  if (auto s = check_vms(list_of(after, "vm"), list_of(after, "vm_status"), list_of(after, "node"),
                         list_of(after, "network"), list_of(before, "vm_status"), touched);
      !s)
    return s;
  if (auto s = check_esan(list_of(after, "esan_disk"), list_of(before, "esan_disk"),
                          list_of(after, "esan_status"), list_of(after, "vm"),
                          list_of(after, "node"), touched);
      !s)
    return s;
  return check_ha(list_of(after, "vm"), list_of(after, "fence_device"),
                  list_of(after, "ha_request"), list_of(after, "node"), touched);
}

error in_change(size_t index, const change& c, const error& e) {
  return make_error(e.code,
                    "change " + std::to_string(index + 1) + " (" + describe(c) + "): " + e.message,
                    e.field);
}

// Applies `changes` in order onto `next`, recording what they touch.
status apply_changes(const std::vector<change>& changes, uint64_t version, store::kind_map& objects,
                     std::set<std::pair<std::string, std::string>>& touched,
                     std::set<std::string>& removed_groups, touched_objects& changed) {
  for (size_t i = 0; i < changes.size(); ++i) {
    const change& c = changes[i];
    if (auto s = apply_change(objects, c, version); !s)
      return changes.size() == 1 ? s : in_change(i, c, s.err());
    touched.emplace(c.kind, c.name);
    changed.changed.emplace(c.kind, c.name);
    if (c.op == change::op_type::remove)
      changed.removed.emplace(c.kind, c.name);
    if (c.op == change::op_type::remove && c.kind == "group")
      removed_groups.insert(c.name);
  }
  return ok_status();
}

}  // namespace

result<store::state> store::next_state(const write_request& request) const {
  using type = write_request::type;
  state next{objects_, staged_, version_ + 1, {}, false, false};
  std::set<std::string> removed_groups;
  bool is_import = request.kind == type::import;
  if (request.kind == type::activate || request.kind == type::discard) {
    if (!request.changes.empty())
      return make_error(errc::invalid_input,
                        std::string(type_name(request.kind)) + " takes no changes", "changes");
    if (staged_.empty() && request.kind == type::activate)
      return make_error(errc::conflict, "there are no staged changes to activate");
    next.staged.clear();
    next.is_staged_changed = true;
  } else if (request.changes.empty()) {
    return make_error(errc::invalid_input, "the request holds no changes", "changes");
  }
  if (auto s = validate_changes(request.changes,
                                is_import ? import_objects_max : changes_per_request_max);
      !s)
    return s.err();
  if (request.kind == type::stage) {
    if (staged_.size() + request.changes.size() > staged_changes_max)
      return make_error(errc::too_large, "at most " + std::to_string(staged_changes_max) +
                                             " changes can be staged; activate or discard first");
    next.staged.insert(next.staged.end(), request.changes.begin(), request.changes.end());
    next.is_staged_changed = true;
    return next;
  }
  if (is_import) {
    for (auto& [kind, objects] : next.objects) {
      if (is_runtime_kind(kind))
        continue;
      for (const auto& [name, o] : objects)
        next.touched.emplace(kind, name);
      if (kind == "group")
        for (const auto& [name, o] : objects)
          removed_groups.insert(name);
      objects.clear();
    }
    next.staged.clear();
    next.is_staged_changed = true;
  }
  std::vector<change> changes = request.kind == type::activate ? staged_ : request.changes;
  if (is_import) {
    std::erase_if(changes, [](const change& c) { return is_runtime_kind(c.kind); });
    for (auto& c : changes) {
      if (c.op != change::op_type::put)
        return make_error(errc::invalid_input, "an import holds only puts", "changes");
      c.base_version.reset();
    }
  }
  touched_objects changed;
  if (auto s =
          apply_changes(changes, next.version, next.objects, next.touched, removed_groups, changed);
      !s)
    return s.err();
  if (auto s = check_rules(objects_, next.objects, removed_groups, changed); !s)
    return s.err();
  return next;
}

result<uint64_t> store::apply(const write_request& request) {
  auto next = next_state(request);
  if (!next)
    return next.err();
  if (auto s = persist(std::move(*next)); !s)
    return s.err();
  return version_;
}

}  // namespace vcube::domain
