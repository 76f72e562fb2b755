// send_queue: the bounded FIFO of messages waiting for corosync. Pure; the
// corosync_link owns one and sends from its front.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "common/error.h"

namespace vcube::cluster {

struct send_queue_limits {
  size_t messages_max = 10000;
  size_t bytes_max = 64u << 20;         // sum of queued payload sizes
  size_t message_bytes_max = 8u << 20;  // one payload; libcpg fragments large ones
};

class send_queue {
 public:
  explicit send_queue(send_queue_limits limits = {}) : limits_(limits) {}

  // Appends `payload`, or refuses it (and keeps the queue unchanged):
  // errc::too_large when it exceeds message_bytes_max, errc::unavailable when
  // the queue already holds messages_max messages or would exceed bytes_max.
  status push(std::string payload);

  bool empty() const { return messages_.empty(); }
  size_t size() const { return messages_.size(); }
  size_t bytes() const { return bytes_; }
  // Precondition: !empty().
  const std::string& front() const;
  void pop();
  void clear();

 private:
  send_queue_limits limits_;
  std::deque<std::string> messages_;
  size_t bytes_ = 0;
};

}  // namespace vcube::cluster
