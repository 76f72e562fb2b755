// Dead-peer detection on an NBD TCP connection between nodes. A node that
// loses power sends no FIN: without this a server would count its client
// (and keep a primary it no longer needs) forever, and a client would wait a
// whole I/O timeout on a server that is gone. TCP keepalive probes an idle
// connection after 2 s, every 1 s, and gives up after 3 unanswered probes;
// TCP_USER_TIMEOUT drops a connection whose sent data stays unacknowledged
// for 5 s. Both end the connection with an error the caller already handles.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace vcube::esan {

inline constexpr int tcp_keepalive_idle_s = 2;
inline constexpr int tcp_keepalive_interval_s = 1;
inline constexpr int tcp_keepalive_probes = 3;
inline constexpr unsigned tcp_user_timeout_ms = 5000;

// Best effort: a socket that refuses an option keeps the kernel's defaults.
inline void enable_tcp_liveness(int fd) {
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &tcp_keepalive_idle_s, sizeof tcp_keepalive_idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &tcp_keepalive_interval_s,
               sizeof tcp_keepalive_interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &tcp_keepalive_probes, sizeof tcp_keepalive_probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &tcp_user_timeout_ms, sizeof tcp_user_timeout_ms);
}

}  // namespace vcube::esan
