// The NBD server of vcube-esand: listeners on unix sockets and TCP, one
// coroutine per connection (see nbd_connection.h), backend I/O on a thread
// pool. Construct, listen, run the io_context on ONE thread; stop() from that
// thread (or post it there). The export calls below may come from any thread:
// they run on the io_context's thread and wait for it (bounded).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/error.h"
#include "esan/nbd_connection.h"

namespace vcube::esan {

struct server_limits {
  connection_limits connection;
  uint32_t connections_max = 256;
  uint32_t io_threads = 4;  // threads doing backend I/O
};

class nbd_server {
 public:
  // `io` must outlive the server. `exports` are the first exports.
  nbd_server(asio::io_context& io, export_map exports, server_limits limits = {});
  ~nbd_server();  // stops, then waits for backend I/O threads to finish
  nbd_server(const nbd_server&) = delete;
  nbd_server& operator=(const nbd_server&) = delete;

  // Listens on a unix socket, replacing a stale socket file at `path`.
  status listen_unix(const std::string& path);
  // TCP clients must prove `key` (link_auth.h) before the NBD handshake.
  // Empty (the default): TCP is open to anyone who reaches it. Set it
  // before listening.
  void set_auth_key(std::string key) { auth_key_ = std::move(key); }
  // Listens on TCP; port 0 picks a free port. Returns the bound port.
  result<uint16_t> listen_tcp(const std::string& address, uint16_t port);
  // Closes the listeners and every connection.
  void stop();
  size_t connection_count() const;

  // An export more (conflict when the name is taken).
  status add_export(const std::string& name, std::shared_ptr<backend> b);
  // Removes an export and closes the connections that use it (only those).
  status remove_export(const std::string& name);
  // Connections serving export `name` now.
  result<size_t> client_count(const std::string& name);

 private:
  template <class Acceptor>
  static awaitable<void> accept_loop(nbd_server* self, Acceptor* acceptor, bool is_tcp);
  void start_connection(stream_socket socket, std::string peer, bool is_tcp);
  // Runs `fn` on the io_context's thread (at once when called there).
  status on_io_thread(const std::function<status()>& fn);

  asio::io_context& io_;
  export_map exports_;
  server_limits limits_;
  std::string auth_key_;
  asio::thread_pool pool_;
  std::list<asio::local::stream_protocol::acceptor> unix_acceptors_;
  std::list<asio::ip::tcp::acceptor> tcp_acceptors_;
  std::list<std::weak_ptr<connection>> connections_;
  uint64_t connections_started_ = 0;  // names connections in the log
  bool is_stopped_ = false;
};

}  // namespace vcube::esan
