// JSON helpers on nlohmann::json: parsing that reports errors as values, and
// the strict-object check every validator uses to refuse unknown fields.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube {

using json = nlohmann::json;

// Parses text; a syntax error becomes errc::invalid_input with the position.
result<json> parse_json(std::string_view text);

// Fails with invalid_input naming the first key of `object` not in `allowed`.
// `where` prefixes the field name in the error ("network.lan").
status reject_unknown_fields(const json& object, std::initializer_list<std::string_view> allowed,
                             std::string_view where);

// "a.b" or just "b" when `where` is empty.
std::string field_path(std::string_view where, std::string_view key);

}  // namespace vcube
