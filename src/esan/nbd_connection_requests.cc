// The transmission phase: validate each request, run it on the thread pool,
// reply; bounded in-flight requests and bytes.
#include <spdlog/spdlog.h>

#include "esan/nbd_connection.h"
#include "esan/offload.h"

namespace vcube::esan {
namespace {

nbd::error_code nbd_error_for(errc code) {
  switch (code) {
    case errc::too_large:
      return nbd::error_code::enospc;
    case errc::forbidden:
      return nbd::error_code::eperm;
    case errc::invalid_input:
      return nbd::error_code::einval;
    default:
      return nbd::error_code::eio;
  }
}

// Bytes a request holds in memory while in flight (its payload or read data).
uint64_t buffered_bytes(const nbd::request& r) {
  return r.type == nbd::command::read || r.type == nbd::command::write ? r.length : 0;
}

status run_on_backend(backend& b, const nbd::request& r, std::vector<std::byte>& data) {
  switch (r.type) {
    case nbd::command::read:
      return b.read(r.offset, data);
    case nbd::command::write:
      return b.write(r.offset, data, r.is_fua());
    case nbd::command::flush:
      return b.flush();
    case nbd::command::trim:
      return b.trim(r.offset, r.length, r.is_fua());
    case nbd::command::write_zeroes:
      return b.write_zeroes(r.offset, r.length, (r.flags & nbd::cmd_flag_no_hole) == 0, r.is_fua());
    default:
      return make_error(errc::internal, "command reached the backend unvalidated");
  }
}

}  // namespace

void connection::finish_request(uint64_t bytes) {
  in_flight_bytes_ -= bytes;
  --in_flight_requests_;
  change_.cancel();
}

void connection::finish_request_elsewhere(std::shared_ptr<connection> self, uint64_t bytes) {
  const std::weak_ptr<connection> weak = self;
  auto executor = self->socket_.get_executor();
  connection* raw = self.get();
  raw->in_flight_bytes_ -= bytes;
  self.reset();
  // From here `raw` may be freed at any moment (its last request ended).
  const uint64_t before = raw->in_flight_requests_.fetch_sub(1);
  if (before & awaited_bit)
    asio::post(executor, [weak] {
      if (auto c = weak.lock())
        c->change_.cancel();
    });
}

template <class Ready>
awaitable<void> connection::wait_requests(std::shared_ptr<connection> self, Ready ready) {
  while (!ready()) {
    self->in_flight_requests_ |= awaited_bit;
    if (!ready())  // a request ended before the bit was seen: no wake-up comes for it
      co_await wait_change(self);
    self->in_flight_requests_ &= ~awaited_bit;
  }
}

void connection::finish_started(std::shared_ptr<connection> self, uint64_t cookie, uint64_t bytes,
                                const status& outcome) {
  std::string reply;
  if (outcome) {
    reply = nbd::encode_reply(self->session_, cookie, nbd::error_code::none);
  } else {
    spdlog::warn("nbd {}: request failed: {}", self->peer_, outcome.err().message);
    reply = nbd::encode_reply(self->session_, cookie, nbd_error_for(outcome.err().code),
                              outcome.err().message);
  }
  const bool is_claimed = self->send_now(reply);
  if (reply.empty()) {
    finish_request_elsewhere(std::move(self), bytes);
    return;
  }
  auto executor = self->socket_.get_executor();
  asio::post(executor, [self = std::move(self), reply = std::move(reply), is_claimed, bytes] {
    asio::co_spawn(self->socket_.get_executor(), reply_later(self, reply, is_claimed, bytes),
                   asio::detached);
  });
}

awaitable<void> connection::reply_later(std::shared_ptr<connection> self, std::string reply,
                                        bool is_claimed, uint64_t bytes) {
  if (is_claimed)
    co_await write_claimed(self, std::move(reply));
  else
    co_await send(self, std::move(reply));
  self->finish_request(bytes);
}

awaitable<void> connection::execute(std::shared_ptr<connection> self, nbd::request req,
                                    std::vector<std::byte> data) {
  if (req.type == nbd::command::write) {
    // Without a pool thread waiting for it, when the backend can: its reply
    // goes out from the thread that finishes it.
    auto payload = std::make_shared<std::vector<std::byte>>(std::move(data));
    write_done done = [self, payload, cookie = req.cookie,
                       bytes = buffered_bytes(req)](const status& outcome) mutable {
      finish_started(std::move(self), cookie, bytes, outcome);
    };
    asio::thread_pool& pool = self->pool_;
    const blocking_runner run = [&pool](std::function<void()> job) {
      asio::post(pool, std::move(job));
    };
    if (self->backend_->start_write(req.offset, *payload, req.is_fua(), done, run))
      co_return;
    data = std::move(*payload);
  }
  if (req.type == nbd::command::read)
    data.resize(req.length);
  backend& b = *self->backend_;
  const status outcome = co_await offload<status>(
      self->pool_, [&b, &req, &data] { return run_on_backend(b, req, data); });
  const nbd::session& s = self->session_;
  if (!outcome) {
    spdlog::warn("nbd {}: request failed: {}", self->peer_, outcome.err().message);
    co_await send(self, nbd::encode_reply(s, req.cookie, nbd_error_for(outcome.err().code),
                                          outcome.err().message));
  } else if (req.type == nbd::command::read) {
    co_await send(self, nbd::encode_read_reply_header(s, req.cookie, req.offset, req.length), data);
  } else {
    co_await send(self, nbd::encode_reply(s, req.cookie, nbd::error_code::none));
  }
  self->finish_request(buffered_bytes(req));
}

awaitable<void> connection::transmit(std::shared_ptr<connection> self) {
  std::array<std::byte, nbd::request_header_bytes> header;
  while (true) {
    const bool has_header = co_await read_exact(self, header, false);
    if (!has_header)
      break;
    nbd::parsed_request p = nbd::parse_request(header, self->session_);
    if (p.what == nbd::verdict::close) {
      self->close("protocol violation: " + p.reason);
      break;
    }
    if (p.what == nbd::verdict::disconnect)
      break;
    if (p.what == nbd::verdict::reply_error) {
      spdlog::info("nbd {}: refused a request: {}", self->peer_, p.reason);
      const bool is_discarded = co_await discard(self, p.discard_bytes);
      if (!is_discarded)
        break;
      co_await send(self, nbd::encode_reply(self->session_, p.req.cookie, p.error, p.reason));
      continue;
    }
    const uint64_t bytes = buffered_bytes(p.req);
    const auto has_room = [&self, bytes] {
      const uint32_t n = self->requests_in_flight();
      return self->is_closed_ || n == 0 ||
             (n < self->limits_.in_flight_requests_max &&
              self->in_flight_bytes_ + bytes <= self->limits_.in_flight_bytes_max);
    };
    co_await wait_requests(self, has_room);
    std::vector<std::byte> payload;
    if (p.req.has_payload()) {
      payload.resize(p.req.length);
      const bool has_payload = co_await read_exact(self, payload, true);
      if (!has_payload)
        break;
    }
    ++self->in_flight_requests_;
    self->in_flight_bytes_ += bytes;
    asio::co_spawn(self->socket_.get_executor(), execute(self, p.req, std::move(payload)),
                   asio::detached);
  }
  // NBD_CMD_DISC, the client went away or misbehaved: in-flight requests
  // finish first (and a request ending on another thread relies on this
  // coroutine's reference to the connection).
  const auto is_idle = [&self] { return self->requests_in_flight() == 0; };
  co_await wait_requests(self, is_idle);
  self->close("client disconnected");
}

}  // namespace vcube::esan
