// File helpers with errors as values.
#pragma once

#include <string>

#include "common/error.h"

namespace vcube::env {

result<std::string> read_file(const std::string& path);
// Writes to a temporary file in the same directory, fsyncs, renames over
// `path`: readers see the old or the new content, never a mix.
status write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0644);
// mkdir -p
status make_directories(const std::string& path, unsigned mode = 0755);
bool file_exists(const std::string& path);

}  // namespace vcube::env
