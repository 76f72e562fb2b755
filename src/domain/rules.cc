#include "domain/rules.h"

#include <map>

namespace vcube::domain {
namespace {

bool has_role(const json& value, const char* role) {
  auto it = value.find("roles");
  if (it == value.end() || !it->is_array())
    return false;
  for (const auto& r : *it)
    if (r == role)
      return true;
  return false;
}

std::vector<std::string> string_list(const json& value, const char* field) {
  std::vector<std::string> out;
  auto it = value.find(field);
  if (it == value.end() || !it->is_array())
    return out;
  for (const auto& s : *it)
    if (s.is_string())
      out.push_back(s.get<std::string>());
  return out;
}

}  // namespace

status check_nodes(const std::vector<object>& nodes) {
  std::map<int64_t, std::string> ids;
  std::map<std::string, std::string> addresses;
  for (const auto& n : nodes) {
    auto id_it = n.value.find("id");
    if (id_it != n.value.end() && id_it->is_number_integer()) {
      auto [at, fresh] = ids.emplace(id_it->get<int64_t>(), n.name);
      if (!fresh)
        return make_error(errc::conflict,
                          "node '" + n.name + "': id " + id_it->dump() +
                              " is already used by node '" + at->second + "'",
                          "id");
    }
    for (const auto& address : string_list(n.value, "addresses")) {
      auto [at, fresh] = addresses.emplace(address, n.name);
      if (!fresh)
        return make_error(errc::conflict,
                          "node '" + n.name + "': address " + address +
                              " is already used by node '" + at->second + "'",
                          "addresses");
    }
  }
  return ok_status();
}

status check_user_groups(const std::vector<object>& users, const std::vector<object>& groups,
                         const std::set<std::string>& removed_groups) {
  std::set<std::string> names;
  for (const auto& g : groups)
    names.insert(g.name);
  for (const auto& u : users) {
    for (const auto& g : string_list(u.value, "groups")) {
      if (names.count(g))
        continue;
      if (removed_groups.count(g))
        return make_error(errc::conflict,
                          "group '" + g + "' is in use by user '" + u.name +
                              "' and cannot be deleted; remove it from the user's groups first",
                          "name");
      return make_error(errc::invalid_input,
                        "user '" + u.name + "': group '" + g + "' does not exist", "groups");
    }
  }
  return ok_status();
}

size_t count_admins(const std::vector<object>& users, const std::vector<object>& groups) {
  std::set<std::string> admin_groups;
  for (const auto& g : groups)
    if (has_role(g.value, "admin"))
      admin_groups.insert(g.name);
  size_t count = 0;
  for (const auto& u : users) {
    if (u.value.value("enabled", true) == false)
      continue;
    bool is_admin = has_role(u.value, "admin");
    for (const auto& g : string_list(u.value, "groups"))
      is_admin = is_admin || admin_groups.count(g) > 0;
    count += is_admin ? 1 : 0;
  }
  return count;
}

}  // namespace vcube::domain
