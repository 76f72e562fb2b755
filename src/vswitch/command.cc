#include "vswitch/command.h"

namespace vcube::vswitch {

std::string format_command(const command& argv) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty())
      text += ' ';
    text += arg.find(' ') == std::string::npos ? arg : '"' + arg + '"';
  }
  return text;
}

std::string format_commands(const std::vector<command>& commands) {
  std::string text;
  for (const auto& argv : commands)
    text += format_command(argv) + "\n";
  return text;
}

}  // namespace vcube::vswitch
