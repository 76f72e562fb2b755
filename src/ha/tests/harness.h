// A transcript harness for decide(): builds inputs, runs one decision at a
// time, keeps the state, and renders actions as short lines for comparison.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ha/core.h"

namespace vcube::ha::testing {

class harness {
 public:
  explicit harness(int node_count = 3, int64_t memory_mib = 4096) {
    for (int id = 1; id <= node_count; ++id) {
      node_info n;
      n.name = "n" + std::to_string(id);
      n.id = id;
      n.memory_mib = memory_mib;
      n.is_member = true;
      n.has_fence_device = true;
      in.nodes.push_back(n);
    }
    in.self = "n1";
    in.cluster_node_count = node_count;
  }

  node_info& node(const std::string& name) {
    for (node_info& n : in.nodes) {
      if (n.name == name) {
        return n;
      }
    }
    ADD_FAILURE() << "no node " << name;
    return in.nodes.front();
  }

  vm_info& add_vm(const std::string& name, int64_t memory_mib = 1024,
                  const std::string& preferred = "", int priority = 0) {
    vm_info v;
    v.name = name;
    v.memory_mib = memory_mib;
    v.node = preferred.empty() ? "n1" : preferred;
    v.is_ha = true;
    v.wants_running = true;
    v.priority = priority;
    v.preferred_node = preferred;
    in.vms.push_back(v);
    return in.vms.back();
  }

  vm_info& vm(const std::string& name) {
    for (vm_info& v : in.vms) {
      if (v.name == name) {
        return v;
      }
    }
    ADD_FAILURE() << "no vm " << name;
    return in.vms.front();
  }

  // Sets the one report of `vm` (as the domain's vm_status: one per VM).
  void report(const std::string& vm, const std::string& node, run_state s, int64_t epoch,
              const std::string& reason = "") {
    std::erase_if(in.reports, [&](const vm_report& r) { return r.vm == vm; });
    in.reports.push_back(vm_report{vm, node, s, reason, epoch});
  }

  // What an obedient executor reports once it has acted on the record.
  void settle(const std::string& vm) {
    const vm_record& r = st.vms.at(vm);
    report(vm, r.node, r.target_running ? run_state::running : run_state::stopped, r.epoch,
           r.target_running ? "" : "host request");
  }

  // One decision at now_ms; returns its actions as lines.
  std::vector<std::string> step(int64_t now_ms) {
    in.now_ms = now_ms;
    output out = decide(cfg, st, in);
    EXPECT_EQ(decide(cfg, st, in).next, out.next) << "decide() is not deterministic";
    st = out.next;
    in.fence_results.clear();
    in.move_requests.clear();
    return render(out.actions);
  }

  const vm_record& rec(const std::string& vm) const { return st.vms.at(vm); }

  static std::vector<std::string> render(const std::vector<action>& actions) {
    std::vector<std::string> lines;
    for (const action& a : actions) {
      if (auto* f = std::get_if<fence_node>(&a)) {
        lines.push_back("fence " + f->node + " delay=" + std::to_string(f->delay_ms));
      } else if (auto* al = std::get_if<raise_alert>(&a)) {
        lines.push_back("alert " + al->severity + " " + al->subject);
      } else if (auto* m = std::get_if<answer_move>(&a)) {
        lines.push_back("move " + m->vm +
                        (m->is_accepted ? " accepted" : " refused: " + m->message));
      }
    }
    return lines;
  }

  settings cfg;
  state st;
  input in;
};

using lines = std::vector<std::string>;

}  // namespace vcube::ha::testing
