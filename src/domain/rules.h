// Cross-object rules, checked by store::apply on the state a request would
// produce (so they are as deterministic as the state itself).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "domain/types.h"

namespace vcube::domain {

// Node ids and node addresses are unique (errc::conflict naming both nodes).
status check_nodes(const std::vector<object>& nodes);

// Every group a user lists exists. A group named in `removed_groups` that is
// still listed is "in use" (errc::conflict); any other missing group is
// errc::invalid_input on field "groups".
status check_user_groups(const std::vector<object>& users, const std::vector<object>& groups,
                         const std::set<std::string>& removed_groups);

// Enabled users whose own or group roles include admin.
size_t count_admins(const std::vector<object>& users, const std::vector<object>& groups);

}  // namespace vcube::domain
