// The object kinds of the domain and the per-object rules (types, ranges,
// required fields). Pure functions; cross-object rules live in rules.h.
// Errors are errc::invalid_input with `field` naming the offending field and a
// message like "network 'lan': mtu must be between 576 and 9216 (got 70000)".
#pragma once

#include <string_view>

#include "common/error.h"
#include "common/json.h"

namespace vcube::domain {

// cluster, node, host, network, user, group.
bool is_known_kind(std::string_view kind);

// Kinds an import keeps: the cluster's members, what runs where, the HA
// manager's records, fence status and history, alerts — not configuration.
bool is_runtime_kind(std::string_view kind);

// 1..63 characters [a-z0-9][a-z0-9._-]* (users may also use '@'); the one
// cluster object must be named "cluster". Also refuses unknown kinds.
status validate_name(std::string_view kind, std::string_view name);

// validate_name plus the object's fields (see docs/domain.md).
status validate_object(std::string_view kind, std::string_view name, const json& value);

// An IPv4 or IPv6 literal (no brackets, no zone, no prefix).
bool is_ip_literal(std::string_view text);

}  // namespace vcube::domain
