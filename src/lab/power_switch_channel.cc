#include "lab/power_switch_channel.h"

#include <openssl/err.h>
#include <poll.h>

#include <cerrno>

namespace vcube::lab {

tls_channel::tls_channel(SSL_CTX* context, int socket_fd, int stop_fd)
    : ssl_(SSL_new(context)), socket_fd_(socket_fd), stop_fd_(stop_fd) {
  if (ssl_)
    SSL_set_fd(ssl_, socket_fd_);
}

tls_channel::~tls_channel() {
  SSL_free(ssl_);
}

bool tls_channel::wait(int ssl_error, boost::system::error_code& ec) {
  if (ssl_error != SSL_ERROR_WANT_READ && ssl_error != SSL_ERROR_WANT_WRITE) {
    ec = asio::error::connection_reset;
    return false;
  }
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now());
    if (left.count() <= 0) {
      ec = asio::error::timed_out;
      return false;
    }
    pollfd fds[2] = {
        {socket_fd_, static_cast<short>(ssl_error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0},
        {stop_fd_, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || (fds[1].revents & POLLIN)) {
      ec = asio::error::operation_aborted;
      return false;
    }
    if (n > 0)
      return true;
  }
}

bool tls_channel::handshake() {
  if (!ssl_)
    return false;
  boost::system::error_code ec;
  for (;;) {
    // The error queue is per thread; a stale entry would make SSL_get_error lie.
    ERR_clear_error();
    int r = SSL_accept(ssl_);
    if (r == 1)
      return true;
    if (!wait(SSL_get_error(ssl_, r), ec))
      return false;
  }
}

std::size_t tls_channel::read_into(void* data, std::size_t size, boost::system::error_code& ec) {
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_read_ex(ssl_, data, size, &n);
    if (r == 1) {
      ec = {};
      return n;
    }
    int error = SSL_get_error(ssl_, r);
    if (error == SSL_ERROR_ZERO_RETURN) {
      ec = asio::error::eof;
      return 0;
    }
    if (!wait(error, ec))
      return 0;
  }
}

bool tls_channel::write_all(std::string_view data) {
  boost::system::error_code ec;
  while (!data.empty()) {
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_write_ex(ssl_, data.data(), data.size(), &n);
    if (r == 1) {
      data.remove_prefix(n);
      continue;
    }
    if (!wait(SSL_get_error(ssl_, r), ec))
      return false;
  }
  return true;
}

void tls_channel::shutdown() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
}

}  // namespace vcube::lab
