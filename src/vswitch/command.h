// One `ip` invocation of a plan, as argv ("ip", "link", ...).
#pragma once

#include <string>
#include <vector>

namespace vcube::vswitch {

using command = std::vector<std::string>;

// argv joined by spaces, arguments with spaces in double quotes: for logs,
// error messages and test transcripts.
std::string format_command(const command& argv);
// One formatted command per line.
std::string format_commands(const std::vector<command>& commands);

}  // namespace vcube::vswitch
