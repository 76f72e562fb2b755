// syntax: predicates for the small formats a VM definition carries, and the
// escaping QEMU's key=value option syntax needs. Pure string handling.
#pragma once

#include <string>
#include <string_view>

namespace vcube::qemu {

bool is_vm_name(std::string_view name);                 // [A-Za-z0-9][A-Za-z0-9._-]{0,62}
bool is_uuid(std::string_view uuid);                    // 8-4-4-4-12 hex digits, any case
bool is_unicast_mac(std::string_view mac);              // six hex pairs with ':', bit 0 clear
bool same_mac(std::string_view a, std::string_view b);  // case-insensitive
bool is_interface_name(std::string_view name);          // Linux: 1..15 of A-Za-z0-9._-
bool is_machine_type(std::string_view type);            // 1..64 of A-Za-z0-9._-
bool is_absolute_clean_path(std::string_view path);     // starts with '/', no control characters

std::string to_lower(std::string_view text);

// A value inside a QEMU key=value option list: ',' is written ",,".
std::string escape_option_value(std::string_view value);

}  // namespace vcube::qemu
