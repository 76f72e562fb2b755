#include "common/json.h"

#include <algorithm>

namespace vcube {

result<json> parse_json(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions on for the position; this is the error path only.
    try {
      json again = json::parse(text);
    } catch (const json::parse_error& e) {
      return make_error(errc::invalid_input,
                        "malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
    }
    return make_error(errc::invalid_input, "malformed JSON");
  }
  return j;
}

std::string field_path(std::string_view where, std::string_view key) {
  if (where.empty())
    return std::string(key);
  return std::string(where) + "." + std::string(key);
}

status reject_unknown_fields(const json& object, std::initializer_list<std::string_view> allowed,
                             std::string_view where) {
  if (!object.is_object()) {
    return make_error(errc::invalid_input, "expected a JSON object", std::string(where));
  }
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed)
        list += (list.empty() ? "" : ", ") + std::string(a);
      return make_error(errc::invalid_input, "unknown field '" + key + "' (allowed: " + list + ")",
                        field_path(where, key));
    }
  }
  return ok_status();
}

}  // namespace vcube
