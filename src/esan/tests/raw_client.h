// A blocking NBD client over a unix socket for the server tests: every read
// has a deadline (poll), so a test never hangs on a misbehaving server.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "esan/nbd_request.h"
#include "esan/tests/nbd_test_client.h"

namespace vcube::esan::nbd::testing {

// One request header.
inline std::string req(command type, uint64_t offset, uint32_t length, uint16_t flags = 0,
                       uint64_t cookie = 42) {
  return encode_request(request{type, flags, cookie, offset, length});
}

class raw_client {
 public:
  explicit raw_client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~raw_client() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  bool is_connected() const { return fd_ >= 0; }

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size());
  }
  // Exactly n bytes, or nothing when the server closed or the deadline passed.
  std::optional<std::string> receive(size_t n,
                                     std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (out.size() < n) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char buffer[65536];
      const ssize_t got = ::recv(fd_, buffer, std::min(sizeof(buffer), n - out.size()), 0);
      if (got <= 0)
        return std::nullopt;
      out.append(buffer, static_cast<size_t>(got));
    }
    return out;
  }
  // Whether the server closes the connection within `limit`.
  bool is_closed_by_server(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buffer[4096];
        if (::recv(fd_, buffer, sizeof(buffer), 0) <= 0)
          return true;
      }
    }
    return false;
  }

  // Greeting, flags, GO with block sizes; true when in transmission.
  bool go(const std::string& name, bool structured = false) {
    if (!receive(18))
      return false;
    std::string wire = client_flags(flag_c_fixed_newstyle | flag_c_no_zeroes);
    if (structured)
      wire += option_request(option::structured_reply);
    wire += option_request(option::go, go_data(name, {3}));
    if (!send(wire))
      return false;
    const size_t replies = (structured ? 20 : 0) + (20 + 12) + (20 + 14) + 20;
    auto out = receive(replies);
    return out && parse_option_replies(*out).back().type == type_of(option_reply::ack);
  }

  // Sends a request and returns the simple reply's error, or nullopt.
  std::optional<uint32_t> simple(const std::string& request, std::string* data = nullptr,
                                 size_t data_bytes = 0) {
    if (!send(request))
      return std::nullopt;
    auto header = receive(16);
    if (!header || get_u32(bytes_of(*header), 0) != magic_simple_reply)
      return std::nullopt;
    const uint32_t error = get_u32(bytes_of(*header), 4);
    if (error == 0 && data_bytes > 0) {
      auto payload = receive(data_bytes);
      if (!payload)
        return std::nullopt;
      *data = *payload;
    }
    return error;
  }

 private:
  int fd_ = -1;
};

// Block i of a FUA write stream: 4 KiB of one letter.
inline std::string stream_block(int64_t i) {
  return std::string(4096, static_cast<char>('A' + i % 26));
}

// Writes block i at i * 4 KiB with FUA, for i up to `count`, one at a time,
// until an answer fails; `acknowledged` is the last i the server answered 0.
inline void stream_fua_writes(raw_client& c, int64_t count, std::atomic<int64_t>& acknowledged) {
  for (int64_t i = 0; i < count; ++i) {
    if (!c.send(req(command::write, uint64_t(i) * 4096, 4096, cmd_flag_fua)))
      return;
    auto answer = c.simple(stream_block(i));
    if (!answer || *answer != 0)
      return;
    acknowledged = i;
  }
}

}  // namespace vcube::esan::nbd::testing
