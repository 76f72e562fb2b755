// The value types of the replicated configuration: objects, changes and write
// requests, with their JSON forms (used by the wire codec and by the store's
// pending change set). Plain values; no validation here (see schema.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace vcube::domain {

struct object {
  std::string kind;
  std::string name;
  json value;
  uint64_t version = 0;  // the domain version of its last change
  friend bool operator==(const object&, const object&) = default;
};

struct change {
  enum class op_type { put, remove };
  op_type op = op_type::put;
  std::string kind;
  std::string name;
  json value;  // null for remove
  // The object's version the writer saw; 0 means "must not exist yet";
  // absent means "whatever it is".
  std::optional<uint64_t> base_version;
  friend bool operator==(const change&, const change&) = default;
};

struct write_request {
  enum class type { apply, stage, activate, discard, import };
  type kind = type::apply;
  std::vector<change> changes;
  friend bool operator==(const write_request&, const write_request&) = default;
};

// Limits on a request, checked by store::apply.
inline constexpr size_t changes_per_request_max = 1000;
inline constexpr size_t staged_changes_max = 1000;
inline constexpr size_t value_bytes_max = 64 * 1024;
inline constexpr size_t import_objects_max = 20000;

const char* type_name(write_request::type t);
const char* op_name(change::op_type op);

// {"op": "put"|"remove", "kind", "name", "value"?, "base_version"?}
json change_to_json(const change& c);
// Strict: unknown fields, missing fields and wrong types are invalid_input.
result<change> change_from_json(const json& j);

// {"type": "apply"|..., "changes": [...]}
json request_to_json(const write_request& r);
result<write_request> request_from_json(const json& j);

// Compact JSON text that never throws: invalid UTF-8 is replaced, so every
// node serialises the same bytes the same way.
std::string dump_compact(const json& j);

}  // namespace vcube::domain
