// One TLS connection of the power switch on a non-blocking socket, with a
// deadline and a stop descriptor on every wait: plain OpenSSL, because the
// switch serves each node on a plain thread (no event loop), and Asio's
// blocking calls cannot time out. Meets Beast's SyncReadStream so
// http::read can parse from it. Not thread-safe; owns neither descriptor.
#pragma once

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <openssl/ssl.h>

#include <boost/system/system_error.hpp>
#include <chrono>
#include <string_view>

namespace vcube::lab {

class tls_channel {
 public:
  using clock = std::chrono::steady_clock;

  // `stop_fd` becoming readable ends every wait (the switch is stopping).
  tls_channel(SSL_CTX* context, int socket_fd, int stop_fd);
  ~tls_channel();
  tls_channel(const tls_channel&) = delete;
  tls_channel& operator=(const tls_channel&) = delete;

  void set_deadline(clock::time_point deadline) { deadline_ = deadline; }
  bool handshake();
  bool write_all(std::string_view data);
  // Sends close_notify without waiting for the peer's.
  void shutdown();

  // SyncReadStream: eof at the end of the stream, timed_out at the deadline,
  // operation_aborted when stopping.
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      asio::mutable_buffer buffer = *it;
      if (buffer.size() > 0)
        return read_into(buffer.data(), buffer.size(), ec);
    }
    ec = {};
    return 0;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec)
      throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::size_t read_into(void* data, std::size_t size, boost::system::error_code& ec);
  // After SSL_ERROR_WANT_READ/WANT_WRITE: waits for the socket; otherwise
  // (or at the deadline, or on stop) sets ec and returns false.
  bool wait(int ssl_error, boost::system::error_code& ec);

  SSL* ssl_;
  int socket_fd_;
  int stop_fd_;
  clock::time_point deadline_ = clock::now();
};

}  // namespace vcube::lab
