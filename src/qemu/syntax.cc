#include "qemu/syntax.h"

#include <cctype>

namespace vcube::qemu {
namespace {

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool is_name(std::string_view name, size_t bytes_max) {
  if (name.empty() || name.size() > bytes_max)
    return false;
  for (char c : name) {
    if (!is_name_char(c))
      return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

}  // namespace

bool is_vm_name(std::string_view name) {
  return is_name(name, 63) && std::isalnum(static_cast<unsigned char>(name[0])) != 0;
}

bool is_uuid(std::string_view uuid) {
  if (uuid.size() != 36)
    return false;
  for (size_t i = 0; i < uuid.size(); ++i) {
    bool is_dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (is_dash_position ? uuid[i] != '-' : !is_hex(uuid[i]))
      return false;
  }
  return true;
}

bool is_unicast_mac(std::string_view mac) {
  if (mac.size() != 17)
    return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !is_hex(mac[i]))
      return false;
  }
  return (hex_value(mac[1]) & 1) == 0;
}

bool same_mac(std::string_view a, std::string_view b) {
  return to_lower(a) == to_lower(b);
}

bool is_interface_name(std::string_view name) {
  return is_name(name, 15) && name != "." && name != "..";
}

bool is_machine_type(std::string_view type) {
  return is_name(type, 64);
}

bool is_absolute_clean_path(std::string_view path) {
  if (!path.starts_with('/'))
    return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return false;
  }
  return true;
}

std::string to_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string escape_option_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    escaped += c;
    if (c == ',')
      escaped += ',';
  }
  return escaped;
}

}  // namespace vcube::qemu
