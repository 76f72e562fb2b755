#include "esan/remote_backend.h"

#include <spdlog/spdlog.h>

#include <cerrno>

namespace vcube::esan {
namespace {

std::string endpoint_text(const tcp_endpoint& e) {
  return e.address + ":" + std::to_string(e.port);
}

// The server's answer as this backend's error (backend.h's mapping, reversed).
status from_nbd_error(uint32_t error) {
  switch (error) {
    case 0:
      return ok_status();
    case ENOSPC:
      return make_error(errc::too_large, "no space left on the serving node");
    case EINVAL:
      return make_error(errc::invalid_input, "the serving node refused the request");
    default:
      return make_error(errc::internal, "I/O error on the serving node");
  }
}

// EPERM: the server is secondary now; ESHUTDOWN: it is stopping. Either way
// another server (or this one, promoted again) may take the request.
bool is_retryable(uint32_t error) {
  return error == EPERM || error == ESHUTDOWN;
}

}  // namespace

remote_backend::remote_backend(remote_config config, nbd_client_options options,
                               remote_limits limits)
    : config_(std::move(config)), options_(std::move(options)), limits_(limits) {}

remote_backend::~remote_backend() {
  stop();
}

void remote_backend::stop() {
  std::lock_guard lock(mutex_);
  is_stopped_ = true;
  idle_.clear();
  stopped_.notify_all();
}

remote_status remote_backend::status_now() const {
  std::lock_guard lock(mutex_);
  return {config_.servers.empty() ? "" : endpoint_text(config_.servers[preferred_]), is_connected_,
          message_};
}

void remote_backend::note_failure(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (message != message_)
    spdlog::warn("remote volume {}: {}", config_.name, message);
  message_ = message;
  is_connected_ = false;
  idle_.clear();  // they were most likely to the same server: do not trust them
}

// An idle connection, or a new one to the first server (from the one that
// answered last) that offers the export.
result<std::unique_ptr<nbd_client>> remote_backend::take() {
  size_t first = 0;
  {
    std::lock_guard lock(mutex_);
    if (is_stopped_)
      return make_error(errc::unavailable, "remote volume " + config_.name + " is detached");
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    first = preferred_;
  }
  std::string failures;
  for (size_t i = 0; i < config_.servers.size(); ++i) {
    const size_t at = (first + i) % config_.servers.size();
    auto c = nbd_client::connect(config_.servers[at], config_.name, options_);
    if (c && (*c)->size_bytes() >= config_.size_bytes) {
      std::lock_guard lock(mutex_);
      preferred_ = at;
      is_connected_ = true;
      return c;
    }
    failures += (failures.empty() ? "" : "; ") + endpoint_text(config_.servers[at]) + ": " +
                (c ? "the export is smaller than " + std::to_string(config_.size_bytes) + " bytes"
                   : c.err().message);
  }
  return make_error(errc::unavailable, "no server takes " + config_.name + " (" + failures + ")");
}

void remote_backend::give_back(std::unique_ptr<nbd_client> c) {
  std::lock_guard lock(mutex_);
  if (!is_stopped_ && idle_.size() < limits_.idle_connections_max)
    idle_.push_back(std::move(c));
}

status remote_backend::run(const nbd::request& r, std::span<const std::byte> payload,
                           std::span<std::byte> out) {
  const auto until = std::chrono::steady_clock::now() + limits_.retry_ms_max;
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    auto c = take();
    if (c) {
      auto answer = (*c)->call(r, payload, out);
      if (answer && !is_retryable(*answer)) {
        give_back(std::move(*c));
        return from_nbd_error(*answer);
      }
      note_failure(answer ? "the server is no longer primary" : answer.err().message);
    } else {
      note_failure(c.err().message);
    }
    std::unique_lock lock(mutex_);
    if (is_stopped_ || std::chrono::steady_clock::now() >= until)
      return make_error(errc::internal, "remote volume " + config_.name + ": " + message_);
    // Waits for the failover; stop() ends the wait at once.
    stopped_.wait_for(lock, backoff, [this] { return is_stopped_; });
    backoff = std::min(backoff * 2, limits_.backoff_ms_max);
  }
}

status remote_backend::read(uint64_t offset, std::span<std::byte> out) {
  return run({nbd::command::read, 0, 0, offset, static_cast<uint32_t>(out.size())}, {}, out);
}

status remote_backend::write(uint64_t offset, std::span<const std::byte> data, bool is_fua) {
  const uint16_t flags = is_fua ? nbd::cmd_flag_fua : 0;
  return run({nbd::command::write, flags, 0, offset, static_cast<uint32_t>(data.size())}, data, {});
}

status remote_backend::flush() {
  return run({nbd::command::flush, 0, 0, 0, 0}, {}, {});
}

status remote_backend::trim(uint64_t offset, uint64_t length, bool is_fua) {
  const uint16_t flags = is_fua ? nbd::cmd_flag_fua : 0;
  return run({nbd::command::trim, flags, 0, offset, static_cast<uint32_t>(length)}, {}, {});
}

status remote_backend::write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) {
  uint16_t flags = is_fua ? nbd::cmd_flag_fua : 0;
  if (!may_punch)
    flags |= nbd::cmd_flag_no_hole;
  return run({nbd::command::write_zeroes, flags, 0, offset, static_cast<uint32_t>(length)}, {}, {});
}

}  // namespace vcube::esan
