// qmp_client: the asio shell around qmp_codec. One unix-socket connection to
// one QEMU; the codec does all protocol work, this file only moves bytes,
// keeps deadlines and wakes the waiting commands.
//
// Threading: everything runs on the executor given to connect() and must be
// called from it (one io_context thread). Lifetime: connect() returns a
// shared_ptr; the reader coroutine holds another until the socket closes, so
// call close() when done (it fails what is in flight and stops the reader).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/asio.h"
#include "common/error.h"
#include "common/json.h"
#include "qemu/qmp_codec.h"

namespace vcube::qemu {

using qmp_clock = std::chrono::steady_clock;

struct qmp_client_handlers {
  // Each event, in arrival order, on the client's executor.
  std::function<void(const qmp_event&)> on_event;
  // Once, when the connection ends for a reason other than close() (EOF,
  // ECONNRESET, a failed write): QEMU is gone or closed QMP.
  std::function<void(const error&)> on_gone;
};

class qmp_client : public std::enable_shared_from_this<qmp_client> {
 public:
  // Connects to `socket_path`, reads the greeting and negotiates capabilities,
  // all before `deadline`. Errors: unavailable (no socket, refused, closed),
  // timeout, internal (negotiation refused).
  static awaitable<result<std::shared_ptr<qmp_client>>> connect(std::string socket_path,
                                                                qmp_clock::time_point deadline,
                                                                qmp_client_handlers handlers,
                                                                qmp_limits limits = {});

  // Sends one command and waits for its reply. A QMP error reply becomes
  // errc::conflict with QEMU's class and description; no reply by `deadline`
  // is errc::timeout (the command is abandoned; QEMU may still carry it out);
  // a lost connection is errc::unavailable "QEMU is gone".
  awaitable<result<json>> execute(std::string name, json arguments, qmp_clock::time_point deadline);

  // Closes the socket without calling on_gone; pending commands fail with
  // errc::unavailable. Idempotent.
  void close();

  bool is_open() const { return !gone_; }
  const qmp_greeting& greeting() const { return greeting_; }

  explicit qmp_client(asio::any_io_executor executor, qmp_client_handlers handlers,
                      qmp_limits limits);  // use connect()

 private:
  struct waiter {
    explicit waiter(asio::any_io_executor executor) : timer(executor) {}
    asio::steady_timer timer;
    std::optional<result<json>> outcome;
  };

  awaitable<status> negotiate(qmp_clock::time_point deadline);
  static awaitable<void> read_loop(std::shared_ptr<qmp_client> self);
  awaitable<void> write_queued();
  void dispatch(qmp_output output);
  void finish(const qmp_reply& reply);
  void fail_all(const error& why);
  void lose_connection(const std::string& why);

  asio::local::stream_protocol::socket socket_;
  qmp_client_handlers handlers_;
  qmp_codec codec_;
  qmp_greeting greeting_;
  std::map<uint64_t, std::shared_ptr<waiter>> waiters_;  // by command id
  std::deque<std::string> outbox_;                       // lines not yet written
  bool is_writing_ = false;
  bool gone_ = false;
};

}  // namespace vcube::qemu
