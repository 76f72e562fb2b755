// Sends a replication frame on a blocking stream socket.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::esan {

// `head` then `tail` in one sendmsg loop, without copying the tail.
inline status send_all(int fd, std::string_view head, std::span<const std::byte> tail) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<std::byte*>(tail.data()), tail.size()}};
  size_t left = head.size() + tail.size();
  msghdr msg{};
  msg.msg_iov = parts;
  msg.msg_iovlen = 2;
  while (left > 0) {
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return make_error(errc::unavailable, std::string("send to the peer: ") + strerror(errno));
    left -= static_cast<size_t>(n);
    for (size_t sent = static_cast<size_t>(n); sent > 0 && msg.msg_iovlen > 0;) {
      size_t step = std::min(sent, msg.msg_iov[0].iov_len);
      msg.msg_iov[0].iov_base = static_cast<char*>(msg.msg_iov[0].iov_base) + step;
      msg.msg_iov[0].iov_len -= step;
      sent -= step;
      if (msg.msg_iov[0].iov_len == 0) {
        ++msg.msg_iov;
        --msg.msg_iovlen;
      }
    }
  }
  return ok_status();
}

}  // namespace vcube::esan
