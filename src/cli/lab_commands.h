// `vcube lab ...`: the local multi-node lab (src/lab) on the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace vcube::cli {

void add_lab_commands(CLI::App& app, int& code);

}  // namespace vcube::cli
