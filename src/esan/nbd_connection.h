// One NBD client connection: the handshake, then a reader that validates
// requests and hands each valid one to its own coroutine, which does the
// backend I/O on the thread pool and writes the reply. Everything here runs on
// one single-threaded io_context, so the fields need no lock, except the
// socket's write side: a write the backend started (start_write) may be
// answered from the thread that finished it (write_mutex_).
//
// Limits: a deadline on the whole handshake, on each request payload and on
// each reply write; at most in_flight_requests_max requests and
// in_flight_bytes_max payload bytes in flight. Any violation or timeout closes
// this connection only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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
  // The socket's writer is this coroutine (claimed): it writes, then frees it.
  static awaitable<void> write_claimed(std::shared_ptr<connection> self, std::string head,
                                       std::span<const std::byte> data = {});
  // A started write (backend::start_write) ended, on any thread: its reply
  // goes out from there when the socket is free, else from the loop.
  static void finish_started(std::shared_ptr<connection> self, uint64_t cookie, uint64_t bytes,
                             const status& outcome);
  static awaitable<void> reply_later(std::shared_ptr<connection> self, std::string reply,
                                     bool is_claimed, uint64_t bytes);
  bool claim_writing();  // false: closed or another writer has it
  // Sends as much of `reply` as the socket takes now, from any thread,
  // erasing what went; true when some but not all went: the socket stays
  // claimed for the rest.
  bool send_now(std::string& reply);
  static awaitable<bool> read_exact(std::shared_ptr<connection> self, std::span<std::byte> out,
                                    bool has_deadline);
  static awaitable<bool> discard(std::shared_ptr<connection> self, uint64_t length);
  static awaitable<void> wait_change(std::shared_ptr<connection> self);
  std::vector<nbd::export_description> describe_exports() const;
  void finish_request(uint64_t bytes);  // on the loop
  // The same from another thread, which gives up its reference first: it
  // is never the last one (transmit keeps one until no request is in
  // flight), so the connection and its backend are freed on the loop.
  static void finish_request_elsewhere(std::shared_ptr<connection> self, uint64_t bytes);
  // Until `ready` (called on the loop) holds; requests that end on other
  // threads wake it.
  template <class Ready>
  static awaitable<void> wait_requests(std::shared_ptr<connection> self, Ready ready);
  uint32_t requests_in_flight() const {
    return static_cast<uint32_t>(in_flight_requests_.load() & ~awaited_bit);
  }

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
  // Requests in flight, and awaited_bit while the loop waits for one to
  // end: a request ending on another thread then wakes it.
  static constexpr uint64_t awaited_bit = 1ULL << 63;
  std::atomic<uint64_t> in_flight_requests_ = 0;
  std::atomic<uint64_t> in_flight_bytes_ = 0;
  // The loop and the threads that finish started writes share the socket's
  // write side: is_writing_ says a reply is being written (its writer
  // claimed it), and is_closed_ is set, and the socket closed, under it.
  std::mutex write_mutex_;
  bool is_writing_ = false;
  bool is_closed_ = false;
};

}  // namespace vcube::esan
