// The control socket of vcube-esand (docs/esan.md, "Control socket"): a unix
// socket (mode 0600) where vcubed sends one JSON request per line and reads
// one reply per line, in order. The thin shell: one coroutine per client on
// this server's own thread; each request goes to volume_manager::handle.
// A line longer than control::line_bytes_max gets an error reply and the
// connection closes.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <thread>

#include "common/asio.h"
#include "common/error.h"
#include "esan/volume_manager.h"

namespace vcube::esan {

class control_server {
 public:
  // `manager` must outlive the server.
  explicit control_server(volume_manager& manager);
  ~control_server();  // stop()
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

  // Binds `path` (a stale socket file there is replaced; any other file is
  // an error), mode 0600, then serves on its own thread.
  status start(const std::string& path);
  // Closes the listener and every client, then joins the thread.
  void stop();

 private:
  using socket = asio::local::stream_protocol::socket;
  static awaitable<void> accept_loop(control_server* self);
  static awaitable<void> serve(control_server* self, std::shared_ptr<socket> client);

  volume_manager& manager_;
  asio::io_context io_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::list<std::weak_ptr<socket>> clients_;  // io_ thread only
  std::thread thread_;
};

}  // namespace vcube::esan
