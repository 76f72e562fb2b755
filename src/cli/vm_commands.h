// `vcube vm ...`: VM definitions and actions over the API (docs/api.md,
// "Virtual machines").
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/session.h"

namespace vcube::cli {

void add_vm_commands(CLI::App& app, global_options& g, int& code);

// --disk IMAGE[,size=MIB][,bus=B][,cache=C][,format=F][,readonly] → a disk object;
// --disk esan:NAME[,bus=B][,cache=C] → a disk on the eSAN disk NAME.
result<json> parse_disk_option(const std::string& text);
// --nic NETWORK[,mac=M][,model=M] → a nic object.
result<json> parse_nic_option(const std::string& text);

}  // namespace vcube::cli
