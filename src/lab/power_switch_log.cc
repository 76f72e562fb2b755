#include "lab/power_switch_log.h"

#include <ctime>

#include "lab/names.h"

namespace vcube::lab {
namespace {

constexpr std::size_t field_chars_max = 200;

// A field never contains a space or a control character and is never empty:
// the line splits on spaces into exactly seven fields.
std::string field(const std::string& text) {
  if (text.empty())
    return "-";
  std::string out = text.substr(0, field_chars_max);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f')
      c = '?';
  }
  return out;
}

}  // namespace

std::string format_log_time(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];  // room for any int the compiler cannot rule out
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return text;
}

std::string format_switch_log_line(const switch_log_entry& entry) {
  return format_log_time(entry.unix_ms) + " " +
         (entry.from_node ? node_name(entry.from_node) : "-") + " " + field(entry.method) + " " +
         field(entry.path) + " " + (entry.system_node ? node_name(entry.system_node) : "-") + " " +
         (entry.reset ? reset_type_name(*entry.reset) : "-") + " " + field(entry.result);
}

}  // namespace vcube::lab
