#include "esan/nbd_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <future>

#include "esan/tcp_liveness.h"

namespace vcube::esan {

nbd_server::nbd_server(asio::io_context& io, export_map exports, server_limits limits)
    : io_(io), exports_(std::move(exports)), limits_(limits), pool_(limits.io_threads) {
  assert(limits_.connection.in_flight_bytes_max >= limits_.connection.payload_bytes_max);
  assert(limits_.connection.in_flight_requests_max > 0);
}

nbd_server::~nbd_server() {
  stop();
  pool_.join();
}

status nbd_server::listen_unix(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(errc::conflict, path + " exists and is not a socket; not replacing it");
    ::unlink(path.c_str());
  }
  boost::system::error_code ec;
  auto& acceptor = unix_acceptors_.emplace_back(io_);
  const asio::local::stream_protocol::endpoint endpoint(path);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    unix_acceptors_.pop_back();
    return make_error(errc::internal, "cannot listen on " + path + ": " + ec.message());
  }
  asio::co_spawn(io_, accept_loop(this, &acceptor, false), asio::detached);
  spdlog::info("nbd: listening on unix socket {}", path);
  return ok_status();
}

result<uint16_t> nbd_server::listen_tcp(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec)
    return make_error(errc::invalid_input, "'" + address + "' is not an IP address", "tcp");
  const asio::ip::tcp::endpoint endpoint(ip, port);
  auto& acceptor = tcp_acceptors_.emplace_back(io_);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    tcp_acceptors_.pop_back();
    return make_error(errc::internal, "cannot listen on " + address + ":" + std::to_string(port) +
                                          ": " + ec.message());
  }
  const uint16_t bound = acceptor.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(this, &acceptor, true), asio::detached);
  spdlog::info("nbd: listening on tcp {}:{}", address, bound);
  return bound;
}

template <class Acceptor>
awaitable<void> nbd_server::accept_loop(nbd_server* self, Acceptor* acceptor, bool is_tcp) {
  while (!self->is_stopped_) {
    stream_socket socket(self->io_);
    boost::system::error_code ec;
    co_await acceptor->async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted || self->is_stopped_)
      co_return;
    if (ec) {  // EMFILE and friends: log and keep serving the others
      spdlog::warn("nbd: accept failed: {}", ec.message());
      continue;
    }
    if (is_tcp) {
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
      enable_tcp_liveness(socket.native_handle());
    }
    std::string peer = is_tcp ? "tcp#" : "unix#";
    self->start_connection(std::move(socket), peer + std::to_string(++self->connections_started_),
                           is_tcp);
  }
}

void nbd_server::start_connection(stream_socket socket, std::string peer, bool is_tcp) {
  connections_.remove_if([](const std::weak_ptr<connection>& c) { return c.expired(); });
  if (connections_.size() >= limits_.connections_max) {
    spdlog::warn("nbd: refusing a connection: {} connections already", connections_.size());
    return;  // the socket closes here
  }
  auto c = std::make_shared<connection>(std::move(socket), exports_, pool_, limits_.connection,
                                        std::move(peer), is_tcp, is_tcp ? auth_key_ : "");
  connections_.push_back(c);
  asio::co_spawn(io_, connection::run(c), [c](std::exception_ptr e) {
    if (!e)
      return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      c->close(std::string("unexpected failure: ") + x.what());
    }
  });
}

void nbd_server::stop() {
  is_stopped_ = true;
  boost::system::error_code ignored;
  for (auto& a : unix_acceptors_)
    a.close(ignored);
  for (auto& a : tcp_acceptors_)
    a.close(ignored);
  for (auto& weak : connections_)
    if (auto c = weak.lock())
      c->close("the server is stopping");
}

size_t nbd_server::connection_count() const {
  size_t n = 0;
  for (const auto& weak : connections_)
    if (auto c = weak.lock(); c && !c->is_closed())
      ++n;
  return n;
}

}  // namespace vcube::esan

namespace vcube::esan {

status nbd_server::on_io_thread(const std::function<status()>& fn) {
  if (io_.get_executor().running_in_this_thread())
    return fn();
  auto task = std::make_shared<std::packaged_task<status()>>(fn);
  auto done = task->get_future();
  asio::post(io_, [task] { (*task)(); });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return make_error(errc::unavailable, "the NBD server does not answer (stopping?)");
  return done.get();
}

status nbd_server::add_export(const std::string& name, std::shared_ptr<backend> b) {
  // Captures by value: after a timeout the task may still run later.
  return on_io_thread([this, name, b]() -> status {
    if (!exports_.emplace(name, b).second)
      return make_error(errc::conflict, "export " + name + " exists already");
    spdlog::info("nbd: export {} added", name);
    return ok_status();
  });
}

status nbd_server::remove_export(const std::string& name) {
  return on_io_thread([this, name]() -> status {
    if (exports_.erase(name) == 0)
      return make_error(errc::not_found, "no export " + name);
    for (auto& weak : connections_)
      if (auto c = weak.lock(); c && c->export_name() == name)
        c->close("export " + name + " was removed");
    spdlog::info("nbd: export {} removed", name);
    return ok_status();
  });
}

result<size_t> nbd_server::client_count(const std::string& name) {
  auto n = std::make_shared<size_t>(0);
  auto counted = on_io_thread([this, name, n]() -> status {
    for (const auto& weak : connections_)
      if (auto c = weak.lock(); c && !c->is_closed() && c->export_name() == name)
        ++*n;
    return ok_status();
  });
  if (!counted)
    return counted.err();
  return *n;
}

}  // namespace vcube::esan
