#include "esan/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vcube::esan {

control_server::control_server(volume_manager& manager) : manager_(manager), acceptor_(io_) {}

control_server::~control_server() {
  stop();
}

status control_server::start(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(errc::conflict, path + " exists and is not a socket; not replacing it");
    ::unlink(path.c_str());
  }
  boost::system::error_code ec;
  const asio::local::stream_protocol::endpoint endpoint(path);
  acceptor_.open(endpoint.protocol(), ec);
  // The socket file is created by bind: a umask makes it 0600 from the start.
  mode_t before = ::umask(0177);
  if (!ec)
    acceptor_.bind(endpoint, ec);
  ::umask(before);
  if (!ec && ::chmod(path.c_str(), 0600) != 0)
    ec = boost::system::error_code(errno, boost::system::system_category());
  if (!ec)
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(errc::internal, "cannot listen on " + path + ": " + ec.message());
  asio::co_spawn(io_, accept_loop(this), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  spdlog::info("esand: control socket {}", path);
  return ok_status();
}

void control_server::stop() {
  if (!thread_.joinable())
    return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : clients_)
      if (auto c = weak.lock())
        c->close(ignored);
  });
  thread_.join();
}

awaitable<void> control_server::accept_loop(control_server* self) {
  while (true) {
    auto client = std::make_shared<socket>(self->io_);
    boost::system::error_code ec;
    co_await self->acceptor_.async_accept(*client, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open())
      co_return;
    if (ec) {
      spdlog::warn("esand control: accept failed: {}", ec.message());
      continue;
    }
    self->clients_.remove_if([](const std::weak_ptr<socket>& c) { return c.expired(); });
    self->clients_.push_back(client);
    asio::co_spawn(self->io_, serve(self, client), asio::detached);
  }
}

awaitable<void> control_server::serve(control_server* self, std::shared_ptr<socket> client) {
  std::string buffer;
  while (true) {
    boost::system::error_code ec;
    auto dynamic = asio::dynamic_buffer(buffer, control::line_bytes_max + 1);
    const size_t n = co_await asio::async_read_until(*client, dynamic, '\n',
                                                     asio::redirect_error(use_awaitable, ec));
    std::string reply;
    bool is_last = false;
    if (ec == asio::error::not_found) {  // no newline within the limit
      reply = control::reply_error(make_error(
          errc::invalid_input, "a request line is longer than 64 KiB; closing the connection"));
      is_last = true;
    } else if (ec) {
      co_return;  // the client left, or stop()
    } else {
      // Blocks this thread for the command's length: requests are serialised anyway.
      reply = self->manager_.handle(std::string_view(buffer).substr(0, n - 1));
      buffer.erase(0, n);
    }
    co_await asio::async_write(*client, asio::buffer(reply),
                               asio::redirect_error(use_awaitable, ec));
    if (ec || is_last) {
      boost::system::error_code ignored;
      client->close(ignored);
      co_return;
    }
  }
}

}  // namespace vcube::esan
