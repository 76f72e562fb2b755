#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace vcube {

void init_logging(const std::string& program, const std::string& level, bool to_stderr,
                  const std::string& file) {
  std::shared_ptr<spdlog::logger> logger;
  if (to_stderr || file.empty()) {
    logger = std::make_shared<spdlog::logger>(program,
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        program, std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace vcube
