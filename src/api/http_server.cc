#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include "api/server_state.h"

namespace vcube::api {
namespace detail {

server_state::server_state(asio::any_io_executor ex, asio::ssl::context context, router r,
                           authenticator a, http_limits l)
    : executor(ex),
      strand(asio::make_strand(ex)),
      tls(std::move(context)),
      routes(std::move(r)),
      auth(std::move(a)),
      limits(l),
      acceptor(strand) {}

bool server_state::add(const std::shared_ptr<connection>& c) {
  std::lock_guard lock(mutex_);
  if (is_stopping || connections_.size() >= limits.connections_max)
    return false;
  c->id = next_id_++;
  connections_[c->id] = c;
  return true;
}

void server_state::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  connections_.erase(id);
  if (connections_.empty())
    emptied_.notify_all();
}

std::vector<std::shared_ptr<connection>> server_state::live() {
  std::vector<std::shared_ptr<connection>> out;
  std::lock_guard lock(mutex_);
  for (auto& [id, weak] : connections_) {
    if (auto c = weak.lock())
      out.push_back(std::move(c));
  }
  return out;
}

size_t server_state::count() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

bool server_state::wait_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return emptied_.wait_until(lock, deadline, [&] { return connections_.empty(); });
}

}  // namespace detail

namespace {

using detail::connection;
using detail::server_state;

// Where a coroutine was spawned, an exception that escaped it is logged once.
struct log_exception {
  const char* what;
  void operator()(std::exception_ptr e) const {
    if (!e)
      return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      spdlog::error("api: {} ended by an exception: {}", what, x.what());
    } catch (...) {
      spdlog::error("api: {} ended by an unknown exception", what);
    }
  }
};

awaitable<void> accept_loop(std::shared_ptr<server_state> state) {
  for (;;) {
    asio::ip::tcp::socket socket(asio::make_strand(state->executor));
    beast::error_code ec;
    co_await state->acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (state->is_stopping || ec == asio::error::operation_aborted)
      co_return;
    if (ec) {
      // Out of file descriptors, typically: back off rather than spin.
      spdlog::warn("api: accept failed: {}", ec.message());
      asio::steady_timer pause(state->strand, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    auto c = std::make_shared<connection>(std::move(socket), state);
    if (!state->add(c)) {
      spdlog::warn("api: refusing a connection from {}: {} connections open", c->remote_address,
                   state->limits.connections_max);
      continue;  // destroying c closes the socket
    }
    asio::co_spawn(c->stream.get_executor(), detail::run_connection(c),
                   log_exception{"connection"});
  }
}

// Stops accepting and asks every connection to close (idle ones, or all with `force`).
void close_all(const std::shared_ptr<server_state>& state, bool force) {
  state->is_stopping = true;
  asio::post(state->strand, [state] {
    beast::error_code ec;
    state->acceptor.close(ec);
  });
  for (auto& c : state->live())
    asio::post(c->stream.get_executor(), [c, force] { c->close(force); });
}

}  // namespace

http_server::http_server(asio::any_io_executor executor, asio::ssl::context tls, router routes,
                         authenticator auth, http_limits limits)
    : state_(std::make_shared<server_state>(executor, std::move(tls), std::move(routes),
                                            std::move(auth), limits)) {}

http_server::~http_server() {
  close_all(state_, false);
}

result<unsigned short> http_server::listen(const asio::ip::tcp::endpoint& endpoint) {
  auto& acceptor = state_->acceptor;
  beast::error_code ec;
  std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close(ec);
    return make_error(errc::unavailable, "cannot listen on " + where + ": " + ec.message());
  }
  unsigned short port = acceptor.local_endpoint(ec).port();
  asio::co_spawn(state_->strand, accept_loop(state_), log_exception{"accept loop"});
  spdlog::info("api: listening on {}:{}", endpoint.address().to_string(), port);
  return port;
}

bool http_server::stop() {
  auto start = std::chrono::steady_clock::now();
  auto bound = state_->limits.stop_timeout_ms;
  close_all(state_, false);
  if (state_->wait_empty(start + bound / 2))
    return true;
  close_all(state_, true);
  return state_->wait_empty(start + bound);
}

awaitable<bool> http_server::async_stop() {
  auto start = std::chrono::steady_clock::now();
  auto bound = state_->limits.stop_timeout_ms;
  std::shared_ptr<server_state> state = state_;
  close_all(state, false);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  bool is_forced = false;
  while (state->count() > 0 && std::chrono::steady_clock::now() < start + bound) {
    if (!is_forced && std::chrono::steady_clock::now() >= start + bound / 2) {
      close_all(state, true);
      is_forced = true;
    }
    timer.expires_after(std::chrono::milliseconds(10));
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  co_return state->count() == 0;
}

size_t http_server::connection_count() const {
  return state_->count();
}

}  // namespace vcube::api
