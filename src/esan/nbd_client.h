// A blocking NBD client over TCP, for a diskless node's remote volumes
// (remote_backend.h): connect, authenticate (link_auth.h), fixed newstyle
// handshake with NBD_OPT_GO, then one request at a time with simple replies.
// Every socket operation has a deadline. Not thread-safe: one caller at a
// time (remote_backend keeps a pool of them).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/error.h"
#include "esan/esand_config.h"
#include "esan/nbd_request.h"

namespace vcube::esan {

struct nbd_client_options {
  std::string auth_key;  // empty: the server does not authenticate (tests)
  std::chrono::milliseconds connect_timeout_ms{3000};  // connect, authenticate, handshake
  std::chrono::milliseconds io_timeout_ms{30000};      // each send and receive
  uint32_t option_reply_bytes_max = 64 * 1024;
};

class nbd_client {
 public:
  // Connects to `server` and enters transmission for `export_name`.
  // unavailable: the server does not offer the export (a secondary does not).
  static result<std::unique_ptr<nbd_client>> connect(const tcp_endpoint& server,
                                                     const std::string& export_name,
                                                     const nbd_client_options& options);
  ~nbd_client();
  nbd_client(const nbd_client&) = delete;
  nbd_client& operator=(const nbd_client&) = delete;

  uint64_t size_bytes() const { return size_bytes_; }

  // Sends `r` (with `payload` for a write) and waits for its reply; a read's
  // data lands in `out` (r.length bytes). Returns the reply's NBD error
  // number (0: done), or an error when the connection failed (then it is of
  // no further use).
  result<uint32_t> call(const nbd::request& r, std::span<const std::byte> payload,
                        std::span<std::byte> out);

 private:
  explicit nbd_client(int fd, nbd_client_options options);
  status send_all(std::string_view bytes);
  status receive(std::span<std::byte> out);
  result<std::string> receive_string(size_t n);
  status authenticate();
  status negotiate(const std::string& export_name);

  int fd_ = -1;
  nbd_client_options options_;
  std::chrono::milliseconds timeout_;  // of each send and receive now
  uint64_t size_bytes_ = 0;
  uint64_t next_cookie_ = 1;
};

}  // namespace vcube::esan
