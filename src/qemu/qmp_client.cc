#include "qemu/qmp_client.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace vcube::qemu {
namespace {

constexpr size_t read_chunk_bytes = 64 * 1024;

auto with_ec(boost::system::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

error gone_error(const std::string& why) {
  return make_error(errc::unavailable, "QEMU is gone: " + why);
}

// QEMU serves one QMP client at a time; a second one waits without a greeting.
error late_error() {
  return make_error(errc::timeout,
                    "no QMP greeting and negotiation by the deadline (QEMU busy, or another "
                    "client holds its QMP socket)");
}

}  // namespace

qmp_client::qmp_client(asio::any_io_executor executor, qmp_client_handlers handlers,
                       qmp_limits limits)
    : socket_(executor), handlers_(std::move(handlers)), codec_(limits) {}

awaitable<result<std::shared_ptr<qmp_client>>> qmp_client::connect(std::string socket_path,
                                                                   qmp_clock::time_point deadline,
                                                                   qmp_client_handlers handlers,
                                                                   qmp_limits limits) {
  auto executor = co_await asio::this_coro::executor;
  auto client = std::make_shared<qmp_client>(executor, std::move(handlers), limits);
  boost::system::error_code ec;
  // Connecting to a unix socket completes at once or fails at once.
  co_await client->socket_.async_connect(asio::local::stream_protocol::endpoint(socket_path),
                                         with_ec(ec));
  if (ec)
    co_return make_error(errc::unavailable,
                         "cannot connect to QMP socket " + socket_path + ": " + ec.message());
  if (auto negotiated = co_await client->negotiate(deadline); !negotiated) {
    client->socket_.close(ec);
    client->gone_ = true;
    co_return negotiated.err();
  }
  asio::co_spawn(executor, read_loop(client), asio::detached);
  co_return client;
}

// Reads until the codec is ready; a timer closes the socket at the deadline.
awaitable<status> qmp_client::negotiate(qmp_clock::time_point deadline) {
  auto watchdog = std::make_shared<asio::steady_timer>(socket_.get_executor(), deadline);
  auto is_late = std::make_shared<bool>(false);
  watchdog->async_wait([self = shared_from_this(), is_late](boost::system::error_code ec) {
    if (ec)
      return;  // cancelled: negotiation ended first
    *is_late = true;
    self->socket_.close(ec);
  });
  std::vector<char> buffer(read_chunk_bytes);
  status outcome = make_error(errc::internal, "QMP negotiation did not finish");
  while (true) {
    boost::system::error_code ec;
    size_t n = co_await socket_.async_read_some(asio::buffer(buffer), with_ec(ec));
    if (ec) {
      outcome =
          *is_late ? late_error() : gone_error("QMP closed during negotiation: " + ec.message());
      break;
    }
    codec_.feed(std::string_view(buffer.data(), n));
    qmp_output output = codec_.take_output();
    if (output.greeting)
      greeting_ = *output.greeting;
    for (const std::string& line : output.lines_to_send) {
      co_await asio::async_write(socket_, asio::buffer(line), with_ec(ec));
      if (ec)
        break;
    }
    if (codec_.state() == qmp_state::failed) {
      outcome = make_error(errc::internal, "QEMU refused qmp_capabilities");
      break;
    }
    if (output.became_ready) {
      outcome = ok_status();
      output.lines_to_send.clear();  // written above
      dispatch(std::move(output));   // events that came with the reply
      break;
    }
  }
  watchdog->cancel();
  if (!*is_late)
    co_return outcome;
  co_return late_error();
}

awaitable<void> qmp_client::read_loop(std::shared_ptr<qmp_client> self) {
  std::vector<char> buffer(read_chunk_bytes);
  while (!self->gone_) {
    boost::system::error_code ec;
    size_t n = co_await self->socket_.async_read_some(asio::buffer(buffer), with_ec(ec));
    if (ec) {
      self->lose_connection(ec == asio::error::eof ? "QMP socket closed (EOF)" : ec.message());
      break;
    }
    if (self->gone_)
      break;  // close() ran while this read's completion was queued
    self->codec_.feed(std::string_view(buffer.data(), n));
    self->dispatch(self->codec_.take_output());
    if (!self->outbox_.empty() && !self->is_writing_)
      co_await self->write_queued();
  }
}

void qmp_client::dispatch(qmp_output output) {
  for (auto& line : output.lines_to_send)
    outbox_.push_back(std::move(line));
  for (const auto& problem : output.errors)
    spdlog::warn("qmp: {}: {}", qmp_error_kind_name(problem.kind), problem.message);
  // Replies and events interleave by sequence; deliver in that order.
  size_t r = 0, e = 0;
  while (r < output.replies.size() || e < output.events.size()) {
    const bool is_reply_next =
        e == output.events.size() ||
        (r < output.replies.size() && output.replies[r].sequence < output.events[e].sequence);
    if (is_reply_next) {
      finish(output.replies[r++]);
    } else if (handlers_.on_event) {
      handlers_.on_event(output.events[e++]);
    } else {
      ++e;
    }
  }
}

void qmp_client::finish(const qmp_reply& reply) {
  auto it = waiters_.find(reply.id);
  if (it == waiters_.end())
    return;
  if (reply.is_error) {
    it->second->outcome =
        make_error(errc::conflict, "QMP " + reply.command + " failed: " + reply.error_class + ": " +
                                       reply.error_description);
  } else {
    it->second->outcome = reply.return_value;
  }
  it->second->timer.cancel();
}

awaitable<result<json>> qmp_client::execute(std::string name, json arguments,
                                            qmp_clock::time_point deadline) {
  if (gone_)
    co_return gone_error("the QMP connection is closed");
  auto command = codec_.encode_command(name, arguments);
  if (!command)
    co_return command.err();
  auto self = shared_from_this();  // keeps *this alive across the waits
  auto w = std::make_shared<waiter>(socket_.get_executor());
  w->timer.expires_at(deadline);
  waiters_[command->id] = w;
  outbox_.push_back(std::move(command->line));
  if (!is_writing_)
    co_await write_queued();
  if (!w->outcome) {
    boost::system::error_code ec;
    co_await w->timer.async_wait(with_ec(ec));
  }
  waiters_.erase(command->id);
  if (w->outcome)
    co_return std::move(*w->outcome);
  codec_.abandon(command->id);
  co_return make_error(errc::timeout, "QMP " + name + ": no reply by the deadline");
}

// One writer at a time: whole lines, never interleaved.
awaitable<void> qmp_client::write_queued() {
  auto self = shared_from_this();
  is_writing_ = true;
  while (!outbox_.empty() && !gone_) {
    std::string line = std::move(outbox_.front());
    outbox_.pop_front();
    boost::system::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(line), with_ec(ec));
    if (ec) {
      lose_connection("writing to QMP failed: " + ec.message());
      break;
    }
  }
  is_writing_ = false;
}

void qmp_client::fail_all(const error& why) {
  for (auto& [id, w] : waiters_) {
    if (!w->outcome)
      w->outcome = why;
    w->timer.cancel();
  }
}

void qmp_client::lose_connection(const std::string& why) {
  if (gone_)
    return;
  gone_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  error e = gone_error(why);
  fail_all(e);
  if (handlers_.on_gone)
    handlers_.on_gone(e);
}

void qmp_client::close() {
  if (gone_)
    return;
  gone_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  fail_all(make_error(errc::unavailable, "the QMP connection was closed by vcube"));
}

}  // namespace vcube::qemu
