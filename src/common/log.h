// Logging set-up shared by every program. Use spdlog's free functions
// (spdlog::info, ...) after calling init_logging once.
#pragma once

#include <string>

namespace vcube {

// `level` is one of trace, debug, info, warn, error. With `to_stderr` false the
// log goes to `file` (created if needed); otherwise to stderr.
void init_logging(const std::string& program, const std::string& level, bool to_stderr,
                  const std::string& file = {});

}  // namespace vcube
