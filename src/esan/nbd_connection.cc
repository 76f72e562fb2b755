// Connection set-up, the handshake phase and the I/O helpers with deadlines.
#include "esan/nbd_connection.h"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <array>
#include <optional>

#include "esan/link_auth.h"

namespace vcube::esan {

// Closes the connection unless destroyed (disarmed) before `limit` passes.
class deadline {
 public:
  deadline(const std::shared_ptr<connection>& c, std::chrono::milliseconds limit, const char* what)
      : timer_(c->socket_.get_executor()) {
    timer_.expires_after(limit);
    timer_.async_wait([c, what](const boost::system::error_code& ec) {
      if (!ec)
        c->close(std::string(what) + " took too long");
    });
  }
  ~deadline() { timer_.cancel(); }
  deadline(const deadline&) = delete;
  deadline& operator=(const deadline&) = delete;

 private:
  asio::steady_timer timer_;
};

connection::connection(stream_socket socket, const export_map& exports, asio::thread_pool& pool,
                       const connection_limits& limits, std::string peer, bool is_remote,
                       std::string auth_key)
    : socket_(std::move(socket)),
      change_(socket_.get_executor(), asio::steady_timer::time_point::max()),
      exports_(exports),
      pool_(pool),
      limits_(limits),
      peer_(std::move(peer)),
      is_remote_(is_remote),
      auth_key_(std::move(auth_key)) {}

void connection::close(const std::string& reason) {
  {
    std::lock_guard lock(write_mutex_);
    if (is_closed_)
      return;
    is_closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }
  spdlog::info("nbd {}: closing: {}", peer_, reason);
  change_.cancel();
}

bool connection::claim_writing() {
  std::lock_guard lock(write_mutex_);
  if (is_closed_ || is_writing_)
    return false;
  is_writing_ = true;
  return true;
}

bool connection::send_now(std::string& reply) {
  std::lock_guard lock(write_mutex_);
  if (is_closed_ || is_writing_)
    return false;
  const ssize_t n =
      ::send(socket_.native_handle(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n <= 0)
    return false;  // nothing went (a full or broken socket): the loop writes it, or learns why
  reply.erase(0, static_cast<size_t>(n));
  is_writing_ = !reply.empty();  // the rest goes next, before any other reply
  return is_writing_;
}

awaitable<void> connection::run(std::shared_ptr<connection> self) {
  // GCC 12 miscompiles co_await inside conditions: await into a variable first.
  if (!self->auth_key_.empty()) {
    const bool is_authenticated = co_await authenticate(self);
    if (!is_authenticated)
      co_return;
  }
  const bool is_negotiated = co_await negotiate(self);
  if (is_negotiated)
    co_await transmit(self);
}

std::vector<nbd::export_description> connection::describe_exports() const {
  std::vector<nbd::export_description> out;
  for (const auto& [name, b] : exports_) {
    if (is_remote_ && !b->may_serve_remotely())
      continue;
    nbd::export_description d{
        name, b->size_bytes(),          b->is_read_only(), limits_.block_size_min_bytes,
        4096, limits_.payload_bytes_max};
    if (d.size_bytes % d.block_size_min_bytes != 0)
      d.block_size_min_bytes = 1;  // an odd-sized file: do not demand alignment it cannot have
    if (nbd::validate(d))
      out.push_back(std::move(d));
    else
      spdlog::warn("nbd: export {} not offered: {}", name, nbd::validate(d).err().message);
  }
  return out;
}

awaitable<bool> connection::authenticate(std::shared_ptr<connection> self) {
  deadline limit(self, self->limits_.handshake_timeout_ms, "the authentication");
  const std::string server_nonce = auth::random_nonce();
  const std::string challenge = auth::challenge(server_nonce);
  co_await send(self, challenge);
  std::array<std::byte, auth::response_bytes> response{};
  const bool is_read = co_await read_exact(self, response, false);
  if (!is_read)
    co_return false;
  std::string client_nonce;
  const std::string_view text(reinterpret_cast<const char*>(response.data()), response.size());
  auto proof = auth::check_response(self->auth_key_, server_nonce, text, client_nonce);
  if (!proof) {
    self->close(proof.err().message);
    co_return false;
  }
  const std::string proof_text = std::move(*proof);
  co_await send(self, proof_text);
  co_return !self->is_closed_;
}

awaitable<bool> connection::negotiate(std::shared_ptr<connection> self) {
  deadline limit(self, self->limits_.handshake_timeout_ms, "the handshake");
  nbd::handshake hs(self->describe_exports(), self->limits_.handshake);
  std::array<std::byte, 4096> buffer;
  while (!self->is_closed_) {
    const std::string out = hs.take_output();
    if (!out.empty())
      co_await send(self, out);
    if (hs.state() != nbd::handshake_state::negotiating || self->is_closed_)
      break;
    boost::system::error_code ec;
    const size_t n = co_await self->socket_.async_read_some(
        asio::buffer(buffer), asio::redirect_error(use_awaitable, ec));
    if (ec) {
      self->close("client left during the handshake: " + ec.message());
      co_return false;
    }
    const size_t used = hs.feed(std::span(buffer.data(), n));
    self->pending_.assign(buffer.begin() + used, buffer.begin() + n);
  }
  if (hs.state() != nbd::handshake_state::transmission) {
    self->close(hs.close_reason().empty() ? "handshake ended" : hs.close_reason());
    co_return false;
  }
  self->session_ = hs.negotiated();
  // The export may have been removed while the client negotiated.
  const auto chosen = self->exports_.find(self->session_.exported.name);
  if (chosen == self->exports_.end()) {
    self->close("export " + self->session_.exported.name + " was removed");
    co_return false;
  }
  self->backend_ = chosen->second;
  self->export_name_ = chosen->first;
  spdlog::info("nbd {}: serving export {}", self->peer_, self->session_.exported.name);
  co_return !self->is_closed_;
}

awaitable<void> connection::send(std::shared_ptr<connection> self, std::string head,
                                 std::span<const std::byte> data) {
  while (!self->claim_writing()) {
    if (self->is_closed_)
      co_return;
    co_await wait_change(self);
  }
  co_await write_claimed(self, std::move(head), data);
}

awaitable<void> connection::write_claimed(std::shared_ptr<connection> self, std::string head,
                                          std::span<const std::byte> data) {
  deadline limit(self, self->limits_.io_timeout_ms, "writing a reply");
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head),
                                                  asio::buffer(data.data(), data.size())};
  boost::system::error_code ec;
  co_await asio::async_write(self->socket_, buffers, asio::redirect_error(use_awaitable, ec));
  {
    std::lock_guard lock(self->write_mutex_);
    self->is_writing_ = false;
  }
  self->change_.cancel();
  if (ec)
    self->close("cannot write to the client: " + ec.message());
}

awaitable<bool> connection::read_exact(std::shared_ptr<connection> self, std::span<std::byte> out,
                                       bool has_deadline) {
  const size_t from_pending = std::min(out.size(), self->pending_.size());
  std::copy_n(self->pending_.begin(), from_pending, out.begin());
  self->pending_.erase(self->pending_.begin(), self->pending_.begin() + from_pending);
  if (from_pending == out.size())
    co_return true;
  // What the socket holds already needs no wait (nor a deadline's timer).
  size_t got = from_pending;
  while (got < out.size() && !self->is_closed_) {
    const ssize_t n =
        ::recv(self->socket_.native_handle(), out.data() + got, out.size() - got, MSG_DONTWAIT);
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  if (got == out.size())
    co_return true;
  std::optional<deadline> limit;
  if (has_deadline)
    limit.emplace(self, self->limits_.io_timeout_ms, "reading a request payload");
  boost::system::error_code ec;
  co_await asio::async_read(self->socket_, asio::buffer(out.data() + got, out.size() - got),
                            asio::redirect_error(use_awaitable, ec));
  if (ec)
    self->close(ec == asio::error::eof ? "client closed the connection"
                                       : "cannot read from the client: " + ec.message());
  co_return !ec && !self->is_closed_;
}

awaitable<bool> connection::discard(std::shared_ptr<connection> self, uint64_t length) {
  std::vector<std::byte> sink(std::min<uint64_t>(length, 1 << 20));
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, sink.size()));
    const bool is_read = co_await read_exact(self, std::span(sink.data(), n), true);
    if (!is_read)
      co_return false;
    length -= n;
  }
  co_return true;
}

awaitable<void> connection::wait_change(std::shared_ptr<connection> self) {
  boost::system::error_code ignored;  // cancellation is the wake-up
  co_await self->change_.async_wait(asio::redirect_error(use_awaitable, ignored));
}

}  // namespace vcube::esan
