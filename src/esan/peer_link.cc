#include "esan/peer_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vcube::esan {
namespace {

constexpr auto redial_interval = std::chrono::seconds(1);

result<sockaddr_in> ipv4(const tcp_endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  if (inet_pton(AF_INET, e.address.c_str(), &a.sin_addr) != 1)
    return make_error(errc::invalid_input, "peer addresses are IPv4 for now: " + e.address);
  return a;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

peer_link::peer_link(std::shared_ptr<mirror> volume, mirror_config config)
    : volume_(std::move(volume)), config_(std::move(config)) {}

peer_link::~peer_link() {
  stop();
}

status peer_link::start() {
  if (config_.listen) {
    auto address = ipv4(*config_.listen);
    if (!address)
      return address.err();
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&*address), sizeof *address) != 0 ||
        listen(listen_fd_, 1) != 0) {
      auto why = std::string(strerror(errno));
      ::close(listen_fd_);
      listen_fd_ = -1;
      return make_error(errc::unavailable, "mirror " + config_.name + ": cannot listen on " +
                                               config_.listen->address + ":" +
                                               std::to_string(config_.listen->port) + ": " + why);
    }
  } else if (auto address = ipv4(*config_.peer); !address) {
    return address.err();
  }
  thread_ = std::thread([this] { run(); });
  return ok_status();
}

void peer_link::stop() {
  {
    std::lock_guard lock(mutex_);
    if (is_stopping_)
      return;
    is_stopping_ = true;
    stopped_.notify_all();
  }
  if (listen_fd_ >= 0)
    ::shutdown(listen_fd_, SHUT_RDWR);  // ends accept()
  volume_->stop();
  if (thread_.joinable())
    thread_.join();
  if (listen_fd_ >= 0)
    ::close(listen_fd_);
  listen_fd_ = -1;
}

int peer_link::dial() {
  auto address = ipv4(*config_.peer);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval limit{.tv_sec = 2, .tv_usec = 0};  // connect() honours the send timeout
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  if (connect(fd, reinterpret_cast<sockaddr*>(&*address), sizeof *address) != 0) {
    ::close(fd);
    return -1;
  }
  timeval none{.tv_sec = 0, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return fd;
}

bool peer_link::serve(int fd) {
  set_nodelay(fd);
  auto verdict = volume_->attach_peer(fd);
  if (!verdict) {
    spdlog::warn("mirror {}: peer not attached: {}", config_.name, verdict.err().message);
    return false;
  }
  if (verdict->action == connect_action::refuse) {
    spdlog::error("mirror {}: peer refused: {}", config_.name, verdict->reason);
    return false;
  }
  spdlog::info("mirror {}: peer attached: {}", config_.name, verdict->reason);
  volume_->wait_detached();
  auto s = volume_->status_now();
  spdlog::warn("mirror {}: peer detached: {} (resynced {} bytes so far)", config_.name, s.message,
               s.resynced_bytes);
  return true;
}

void peer_link::run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (is_stopping_)
        return;
    }
    int fd = -1;
    if (listen_fd_ >= 0) {
      fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0 && errno != EINTR && errno != ECONNABORTED) {
        std::lock_guard lock(mutex_);
        if (is_stopping_)
          return;
      }
    } else {
      fd = dial();
    }
    // A refused peer waits like a failed dial: no tight reconnect loop.
    if (fd >= 0 && serve(fd))
      continue;
    std::unique_lock lock(mutex_);
    stopped_.wait_for(lock, redial_interval, [&] { return is_stopping_; });
  }
}

}  // namespace vcube::esan
