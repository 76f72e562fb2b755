#include "cluster/send_queue.h"

#include <cassert>

namespace vcube::cluster {

status send_queue::push(std::string payload) {
  if (payload.size() > limits_.message_bytes_max) {
    return make_error(errc::too_large, "a cluster message of " + std::to_string(payload.size()) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(limits_.message_bytes_max) + " bytes");
  }
  if (messages_.size() >= limits_.messages_max || bytes_ + payload.size() > limits_.bytes_max) {
    return make_error(errc::unavailable,
                      "the corosync send queue is full (" + std::to_string(messages_.size()) +
                          " messages, " + std::to_string(bytes_) + " bytes); is corosync running?");
  }
  bytes_ += payload.size();
  messages_.push_back(std::move(payload));
  return ok_status();
}

const std::string& send_queue::front() const {
  assert(!messages_.empty());
  return messages_.front();
}

void send_queue::pop() {
  assert(!messages_.empty());
  assert(bytes_ >= messages_.front().size());
  bytes_ -= messages_.front().size();
  messages_.pop_front();
}

void send_queue::clear() {
  messages_.clear();
  bytes_ = 0;
}

}  // namespace vcube::cluster
