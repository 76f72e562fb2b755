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
  --in_flight_requests_;
  in_flight_bytes_ -= bytes;
  change_.cancel();
}

awaitable<void> connection::execute(std::shared_ptr<connection> self, nbd::request req,
                                    std::vector<std::byte> data) {
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
      co_return;
    }
    if (p.what == nbd::verdict::disconnect)
      break;
    if (p.what == nbd::verdict::reply_error) {
      spdlog::info("nbd {}: refused a request: {}", self->peer_, p.reason);
      const bool is_discarded = co_await discard(self, p.discard_bytes);
      if (!is_discarded)
        co_return;
      co_await send(self, nbd::encode_reply(self->session_, p.req.cookie, p.error, p.reason));
      continue;
    }
    const uint64_t bytes = buffered_bytes(p.req);
    while (!self->is_closed_ && self->in_flight_requests_ > 0 &&
           (self->in_flight_requests_ >= self->limits_.in_flight_requests_max ||
            self->in_flight_bytes_ + bytes > self->limits_.in_flight_bytes_max))
      co_await wait_change(self);
    std::vector<std::byte> payload;
    if (p.req.has_payload()) {
      payload.resize(p.req.length);
      const bool has_payload = co_await read_exact(self, payload, true);
      if (!has_payload)
        co_return;
    }
    ++self->in_flight_requests_;
    self->in_flight_bytes_ += bytes;
    asio::co_spawn(self->socket_.get_executor(), execute(self, p.req, std::move(payload)),
                   asio::detached);
  }
  // NBD_CMD_DISC or the client went away: let in-flight requests finish first.
  while (self->in_flight_requests_ > 0)
    co_await wait_change(self);
  self->close("client disconnected");
}

}  // namespace vcube::esan
