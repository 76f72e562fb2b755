// The field checker behind validate_object, shared by the schema files of the
// object kinds. Internal to src/domain.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json.h"
#include "domain/types.h"

namespace vcube::domain::detail {

inline constexpr size_t name_chars_max = 63;
inline constexpr size_t text_chars_max = 1024;
inline constexpr size_t list_items_max = 64;

// Checks the fields of one object value and builds the error messages.
class checker {
 public:
  // `prefix` ("disks[2].") is put before field names, for nested objects.
  checker(std::string_view kind, std::string_view name, const json& value, std::string prefix = {})
      : kind_(kind), name_(name), value_(value), prefix_(std::move(prefix)) {}

  std::string_view kind() const { return kind_; }
  std::string_view name() const { return name_; }

  // `what` usually starts with the field's name; it gets the prefix too.
  error fail(std::string_view field, const std::string& what) const {
    bool names_field = !field.empty() && what.rfind(field, 0) == 0;
    return make_error(errc::invalid_input,
                      std::string(kind_) + " '" + std::string(name_) +
                          "': " + (names_field ? prefix_ : "") + what,
                      prefix_ + std::string(field));
  }

  // Refuses fields that are not in `allowed`.
  status only(std::initializer_list<std::string_view> allowed) const {
    if (auto s = reject_unknown_fields(value_, allowed, ""); !s)
      return fail(s.err().field, s.err().message);
    return ok_status();
  }

  const json* get(std::string_view field) const {
    auto it = value_.find(field);
    return it == value_.end() ? nullptr : &*it;
  }

  status required(std::string_view field) const {
    if (!get(field))
      return fail(field, std::string(field) + " is required");
    return ok_status();
  }

  status integer(std::string_view field, int64_t min, int64_t max) const {
    const json* v = get(field);
    if (!v)
      return ok_status();
    if (!v->is_number_integer())
      return fail(field, std::string(field) + " must be an integer");
    auto n = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      n = INT64_MAX;
    if (n < min || n > max)
      return fail(field, std::string(field) + " must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + " (got " + v->dump() + ")");
    return ok_status();
  }

  status text(std::string_view field, size_t max_chars = text_chars_max) const {
    const json* v = get(field);
    if (!v)
      return ok_status();
    if (!v->is_string())
      return fail(field, std::string(field) + " must be a string");
    if (v->get_ref<const std::string&>().size() > max_chars)
      return fail(field, std::string(field) + " is longer than " + std::to_string(max_chars) +
                             " characters");
    return ok_status();
  }

  status boolean(std::string_view field) const {
    const json* v = get(field);
    if (v && !v->is_boolean())
      return fail(field, std::string(field) + " must be true or false");
    return ok_status();
  }

  template <class Pred>
  status one_of(std::string_view field, Pred is_valid, const char* expected) const {
    const json* v = get(field);
    if (!v)
      return ok_status();
    if (!v->is_string() || !is_valid(v->get_ref<const std::string&>()))
      return fail(field,
                  std::string(field) + " must be " + expected + " (got " + dump_compact(*v) + ")");
    return ok_status();
  }

  // An array of unique strings each accepted by is_valid.
  template <class Pred>
  status list(std::string_view field, Pred is_valid, const char* expected,
              size_t min_items = 0) const {
    const json* v = get(field);
    if (!v)
      return ok_status();
    if (!v->is_array())
      return fail(field, std::string(field) + " must be an array of " + expected);
    if (v->size() < min_items || v->size() > list_items_max)
      return fail(field, std::string(field) + " must have between " + std::to_string(min_items) +
                             " and " + std::to_string(list_items_max) + " entries");
    std::set<std::string> seen;
    for (const auto& item : *v) {
      if (!item.is_string() || !is_valid(item.get_ref<const std::string&>()))
        return fail(field, std::string(field) + " entries must be " + expected + " (got " +
                               dump_compact(item) + ")");
      if (!seen.insert(item.get<std::string>()).second)
        return fail(field, std::string(field) + " lists " + dump_compact(item) + " twice");
    }
    return ok_status();
  }

 private:
  std::string_view kind_, name_;
  const json& value_;
  std::string prefix_;
};

inline bool is_name_char(char c, bool allow_at) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         (allow_at && c == '@');
}

inline bool is_plain_name(std::string_view s, bool allow_at = false) {
  if (s.empty() || s.size() > name_chars_max)
    return false;
  if (!is_name_char(s[0], false) || s[0] == '.' || s[0] == '_' || s[0] == '-')
    return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return is_name_char(c, allow_at); });
}

inline status first_error(std::initializer_list<status> checks) {
  for (const auto& s : checks)
    if (!s)
      return s;
  return ok_status();
}

// A file in the node's image directory: a relative path of plain names (no
// "..", no leading '/', no empty segments), at most 255 characters (schema_vm.cc).
inline constexpr size_t image_name_chars_max = 255;
bool is_image_name(const std::string& s);

// The schemas of the VM kinds (schema_vm.cc).
status validate_vm(const checker& c);
status validate_vm_status(const checker& c);

// The schemas of the HA and fencing kinds (schema_ha.cc).
status validate_vm_ha(const checker& c);  // the `ha` section of a vm
status validate_ha_vm(const checker& c);
status validate_ha_fence(const checker& c);
status validate_ha_manager(const checker& c);
status validate_ha_request(const checker& c);
status validate_fence_device(const checker& c);
status validate_fence_status(const checker& c);
status validate_fence_log(const checker& c);
status validate_alert(const checker& c);

// The schemas of the eSAN kinds (schema_esan.cc).
status validate_esan_disk(const checker& c);
status validate_esan_status(const checker& c);

}  // namespace vcube::domain::detail
