// One NBD client connection: the handshake, then a reader that validates
// requests and hands each valid one to its own coroutine, which does the
// backend I/O on the thread pool and writes the reply. Everything here runs on
// one single-threaded io_context, so the fields need no lock.
//
// Limits: a deadline on the whole handshake, on each request payload and on
// each reply write; at most in_flight_requests_max requests and
// in_flight_bytes_max payload bytes in flight. Any violation or timeout closes
// this connection only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/asio.h"
#include "esan/backend.h"
#include "esan/nbd_handshake.h"
#include "esan/nbd_request.h"

namespace vcube::esan {

using export_map = std::map<std::string, std::shared_ptr<backend>>;

struct connection_limits {
  std::chrono::milliseconds handshake_timeout_ms{10000};
  std::chrono::milliseconds io_timeout_ms{30000};  // payload reads and reply writes
  uint32_t in_flight_requests_max = 16;
  uint64_t in_flight_bytes_max = 64ULL << 20;  // at least payload_bytes_max
  uint32_t block_size_min_bytes = 512;
  uint32_t payload_bytes_max = nbd::payload_bytes_max_default;
  nbd::handshake_limits handshake;
};

using stream_socket = asio::generic::stream_protocol::socket;

class connection : public std::enable_shared_from_this<connection> {
 public:
  // `exports` and `pool` must outlive the connection; `exports` may change
  // between the connection's steps (same thread). A remote client (TCP) is
  // offered only exports that may_serve_remotely(); with an `auth_key` it
  // must prove the key (link_auth.h) before the NBD handshake.
  connection(stream_socket socket, const export_map& exports, asio::thread_pool& pool,
             const connection_limits& limits, std::string peer, bool is_remote,
             std::string auth_key);

  // Serves until the client leaves or misbehaves. Spawn once.
  static awaitable<void> run(std::shared_ptr<connection> self);
  // Closes the socket (once; logs `reason`); in-flight work finishes quietly.
  void close(const std::string& reason);
  bool is_closed() const { return is_closed_; }
  // The export it serves ("" during the handshake).
  const std::string& export_name() const { return export_name_; }

 private:
  friend class deadline;
  static awaitable<bool> authenticate(std::shared_ptr<connection> self);
  static awaitable<bool> negotiate(std::shared_ptr<connection> self);
  static awaitable<void> transmit(std::shared_ptr<connection> self);
  static awaitable<void> execute(std::shared_ptr<connection> self, nbd::request req,
                                 std::vector<std::byte> payload);
  static awaitable<void> send(std::shared_ptr<connection> self, std::string head,
                              std::span<const std::byte> data = {});
  static awaitable<bool> read_exact(std::shared_ptr<connection> self, std::span<std::byte> out,
                                    bool has_deadline);
  static awaitable<bool> discard(std::shared_ptr<connection> self, uint64_t length);
  static awaitable<void> wait_change(std::shared_ptr<connection> self);
  std::vector<nbd::export_description> describe_exports() const;
  void finish_request(uint64_t bytes);

  stream_socket socket_;
  asio::steady_timer change_;  // never expires; cancel() wakes every waiter
  const export_map& exports_;
  asio::thread_pool& pool_;
  connection_limits limits_;
  std::string peer_;
  bool is_remote_;
  std::string auth_key_;
  nbd::session session_;
  std::shared_ptr<backend> backend_;
  std::string export_name_;
  std::vector<std::byte> pending_;  // bytes read past the handshake
  uint32_t in_flight_requests_ = 0;
  uint64_t in_flight_bytes_ = 0;
  bool is_writing_ = false;
  bool is_closed_ = false;
};

}  // namespace vcube::esan
