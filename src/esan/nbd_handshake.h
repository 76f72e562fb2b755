// The server side of the NBD fixed-newstyle handshake as a pure state machine:
// bytes from the client go in through feed(), bytes to send come out of
// take_output(), and state() says whether to keep negotiating, start
// transmission (negotiated() holds the result) or close the connection
// (close_reason() says why). No sockets, clocks or files: the caller owns the
// deadline on handshake reads.
//
// Supported options: EXPORT_NAME, ABORT, LIST, INFO, GO (NBD_INFO_EXPORT and
// NBD_INFO_BLOCK_SIZE), STRUCTURED_REPLY. Anything else gets NBD_REP_ERR_UNSUP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "esan/nbd_export.h"
#include "esan/nbd_protocol.h"

namespace vcube::esan::nbd {

struct handshake_limits {
  // Larger option payloads are skipped and answered with NBD_REP_ERR_TOO_BIG
  // (never buffered). A GO with a 4096-byte name and a few info requests fits.
  uint32_t option_data_bytes_max = 8192;
  // A client that keeps haggling past this many options is cut off.
  uint32_t options_max = 64;
};

enum class handshake_state {
  negotiating,   // keep reading
  transmission,  // negotiated() is valid; later bytes are requests
  closing,       // send what take_output() holds, then close; see close_reason()
};

class handshake {
 public:
  // `exports` is copied. The greeting is queued for take_output() at once.
  explicit handshake(std::vector<export_description> exports, handshake_limits limits = {});

  // Consumes bytes up to the end of the option that ends negotiation (the rest
  // belongs to the transmission phase) and returns how many it consumed.
  // Consumes nothing once the state is no longer `negotiating`.
  size_t feed(std::span<const std::byte> bytes);

  // Bytes to send to the client, in order; empties the queue.
  std::string take_output();

  handshake_state state() const { return state_; }
  // Why the connection ends, for the log; empty while negotiating.
  const std::string& close_reason() const { return close_reason_; }
  // Valid only in state `transmission`.
  const session& negotiated() const { return session_; }

 private:
  enum class stage { client_flags, option_header, option_data, discarding };

  void on_complete();
  void on_client_flags();
  void on_option_header();
  void dispatch();
  void on_export_name(const std::string& name);
  void on_list();
  void on_info_or_go();
  void on_structured_reply();
  void close(std::string reason);
  void reply(option_reply type, std::string_view data = {});
  void reply_error(option_reply type, std::string_view message);
  void reply_info_block_size(const export_description& d);
  const export_description* find(const std::string& name) const;

  std::vector<export_description> exports_;
  handshake_limits limits_;
  handshake_state state_ = handshake_state::negotiating;
  stage stage_ = stage::client_flags;
  std::vector<std::byte> buffer_;  // the current header or option data
  size_t wanted_bytes_ = 4;        // size of the current piece in buffer_
  uint64_t discard_bytes_ = 0;     // left to skip of an oversized option
  uint32_t option_ = 0;
  uint32_t options_seen_ = 0;
  bool has_no_zeroes_ = false;
  bool has_structured_replies_ = false;
  std::string output_;
  std::string close_reason_;
  session session_;
};

}  // namespace vcube::esan::nbd
