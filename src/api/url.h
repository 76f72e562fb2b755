// Request-target parsing: path and query split, percent-decoding.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::api {

struct target_parts {
  std::string_view path;   // before '?'
  std::string_view query;  // after '?', "" if none
};
target_parts split_target(std::string_view target);

// %XX → byte; with `plus_is_space` (query strings) '+' → ' '. nullopt for a
// truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y&flag" → {a:1, b:"x y", flag:""}; a repeated key keeps the last
// value. invalid_input naming the parameter for a bad escape.
result<std::map<std::string, std::string>> parse_query(std::string_view query);

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string percent_encode(std::string_view text);

}  // namespace vcube::api
