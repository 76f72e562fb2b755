// The power switch: fence requests wait out their race delay (a requester
// whose power went off meanwhile sends nothing), then run one at a time.
#include "tests/sim/world.h"

namespace vcube::sim {

void world::run_switch() {
  std::erase_if(fence_requests_, [&](const fence_request& r) {
    if (r.at_ms > now_ms_) {
      return false;
    }
    if (is_powered(r.requester)) {
      switch_queue_.push_back(r);
    }
    return true;
  });
  if (is_switch_busy_ && now_ms_ >= switch_done_ms_) {
    is_switch_busy_ = false;
    fence_fault& fault = fence_faults_[switch_op_.target];
    ha::fence_result result{switch_op_.target, false, ""};
    if (fault.is_unreachable) {
      result.message = "device unreachable";
    } else if (fault.failures > 0) {
      --fault.failures;
      result.message = "agent failed";
    } else {
      power_off(switch_op_.target, true);
      result.is_confirmed = true;
    }
    note("switch: " + switch_op_.target + (result.is_confirmed ? " off" : " " + result.message));
    if (is_powered(switch_op_.requester)) {  // a node powered off hears no answer
      sim_nodes_.at(switch_op_.requester).fence_results.push_back(result);
    }
  }
  if (!is_switch_busy_ && !switch_queue_.empty()) {
    switch_op_ = switch_queue_.front();
    switch_queue_.pop_front();
    is_switch_busy_ = true;
    int64_t extra_ms = fence_faults_[switch_op_.target].extra_latency_ms;
    switch_done_ms_ = now_ms_ + timing_.fence_latency_ms + extra_ms;
  }
}

void world::power_off(const std::string& node, bool is_fence) {
  sim_node& n = sim_nodes_.at(node);
  if (is_fence) {
    down_unfenced_.erase(node);
  }
  if (!n.is_powered) {
    return;
  }
  if (!is_fence) {
    down_unfenced_.insert(node);
  }
  n.is_powered = false;
  is_membership_stale_ = true;
  n.executor.clear();
  for (auto& [vm, nodes] : running_) {
    if (nodes.erase(node) > 0) {
      lost_on_[vm] = node;
    }
  }
}

}  // namespace vcube::sim
