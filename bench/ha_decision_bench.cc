// decide() at scale: 64 nodes, 5,000 HA VMs, right after one node failed.
// "lost": the first decision after the node left the membership (fence
// requested, its VMs to fence_wait); "recovery": the decision after its fence
// was confirmed (its VMs placed on the survivors). Goal: ≤ 10 ms each.
#include <benchmark/benchmark.h>

#include <string>

#include "ha/core.h"

namespace {

using namespace vcube::ha;

constexpr int node_count = 64;
constexpr int vm_count = 5000;

struct cluster {
  settings config;
  state current;
  input in;
};

// Every VM started on node (i % 64), reported running at its epoch.
cluster started_cluster() {
  cluster c;
  c.in.self = "node01";
  c.in.cluster_node_count = node_count;
  for (int id = 1; id <= node_count; ++id) {
    std::string name = (id < 10 ? "node0" : "node") + std::to_string(id);
    c.in.nodes.push_back(node_info{name, id, node_mode::online, 512 * 1024, true, true});
  }
  for (int i = 0; i < vm_count; ++i) {
    const std::string& node = c.in.nodes[static_cast<size_t>(i % node_count)].name;
    std::string name = "vm" + std::to_string(i);
    c.in.vms.push_back(vm_info{name, 2048, node, true, true, i % 4, i % 3 == 0 ? node : "", false});
    c.in.reports.push_back(vm_report{name, node, run_state::running, "", 1});
    c.current.vms[name] = vm_record{node, true, 1, vm_state::started, "", {}, "", 0};
  }
  return c;
}

void BM_decide_after_node_lost(benchmark::State& s) {
  cluster c = started_cluster();
  c.in.nodes[7].is_member = false;
  c.in.now_ms = 1'000'000;
  for (auto _ : s) {
    output out = decide(c.config, c.current, c.in);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_decide_after_node_lost)->Unit(benchmark::kMillisecond);

void BM_decide_recovery_after_fence(benchmark::State& s) {
  cluster c = started_cluster();
  c.in.nodes[7].is_member = false;
  c.in.now_ms = 1'000'000;
  c.current = decide(c.config, c.current, c.in).next;
  c.in.fence_results.push_back(fence_result{c.in.nodes[7].name, true, ""});
  c.in.now_ms += 5000;
  for (auto _ : s) {
    output out = decide(c.config, c.current, c.in);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_decide_recovery_after_fence)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
