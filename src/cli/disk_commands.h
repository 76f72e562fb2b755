// `vcube disk list|show|create|resize|rate|delete|verify|resolve-split-brain`:
// eSAN disks over the API (docs/api.md, "eSAN disks"), plus the pure pieces:
// size parsing and the rendering of a disk's state.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <ostream>
#include <string>

#include "cli/session.h"

namespace vcube::cli {

void add_disk_commands(CLI::App& app, global_options& g, int& code);

// "512M", "10G", "2T" or a plain number of MiB → MiB. Errors name --size.
result<int64_t> parse_size_mib(const std::string& text);

// `disk list` from the items of GET /api/v1/disks.
void render_disk_list(const json& items, std::ostream& out);
// `disk show` from GET /api/v1/disks/{name}.
void render_disk(const json& disk, std::ostream& out);

}  // namespace vcube::cli
