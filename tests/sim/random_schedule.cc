#include "tests/sim/random_schedule.h"

#include <string>

namespace vcube::sim {
namespace {

std::string pick_node(prng& r, const scenario& s) {
  return s.nodes[static_cast<size_t>(r.below(static_cast<int64_t>(s.nodes.size())))].name;
}

std::string pick_vm(prng& r, const scenario& s) {
  return s.vms[static_cast<size_t>(r.below(static_cast<int64_t>(s.vms.size())))].name;
}

std::string random_partition(prng& r, const scenario& s) {
  std::string sides[2];
  for (const node_def& n : s.nodes) {
    std::string& side = sides[r.below(2)];
    side += (side.empty() ? "" : ",") + n.name;
  }
  if (sides[0].empty() || sides[1].empty()) {
    return "heal";
  }
  return "partition " + sides[0] + " | " + sides[1];
}

std::string random_fault(prng& r, const scenario& s) {
  switch (r.below(16)) {
    case 0:
    case 1:
      return "crash " + pick_node(r, s);
    case 2:
    case 3:
      return "power_on " + pick_node(r, s);
    case 4:
      return random_partition(r, s);
    case 5:
      return "heal";
    case 6:
      return "fence_fault " + pick_node(r, s) + " fail " + std::to_string(r.between(1, 3));
    case 7:
      return "fence_fault " + pick_node(r, s) + (r.chance(50) ? " unreachable" : " slow 20000");
    case 8:
      return (r.chance(50) ? "guest_off " : "vm_crash ") + pick_vm(r, s);
    case 9:
      return "start_fail " + pick_vm(r, s) + " " + std::to_string(r.between(1, 4));
    case 10:
      return "clock " + std::to_string(r.between(-3600, 3600));
    case 11:
      return (r.chance(50) ? "standby " : "online ") + pick_node(r, s);
    case 12:
      return "move " + pick_vm(r, s) + " " + pick_node(r, s);
    case 13:
      return (r.chance(30) ? "stop " : "start ") + pick_vm(r, s);
    case 14:
      return "prefer " + pick_vm(r, s) + " " + (r.chance(30) ? "" : pick_node(r, s));
    default:
      return "report_delay " + std::to_string(r.between(0, 3) * 500);
  }
}

void add_cluster(prng& r, scenario& s) {
  int node_count = static_cast<int>(r.between(2, 5));
  for (int id = 1; id <= node_count; ++id) {
    s.nodes.push_back(node_def{"n" + std::to_string(id), id, 4096, true, ha::node_mode::online});
  }
  // Everything fits on all nodes but one, so a single loss leaves room.
  int64_t budget_mib = (node_count - 1) * 4096 * 3 / 4;
  int vm_count = static_cast<int>(r.between(1, node_count * 2));
  for (int i = 0; i < vm_count; ++i) {
    vm_def v;
    v.name = "vm" + std::to_string(i);
    v.memory_mib = r.between(1, 3) * 512;
    if (v.memory_mib > budget_mib) {
      break;
    }
    budget_mib -= v.memory_mib;
    v.priority = static_cast<int>(r.below(4));
    v.preferred = r.chance(50) ? pick_node(r, s) : "";
    v.home = v.preferred.empty() ? pick_node(r, s) : v.preferred;
    v.is_sticky = r.chance(10);
    // On eSAN disks of two nodes, run diskless whenever it is placed elsewhere.
    if (node_count >= 3 && r.chance(30)) {
      v.disk_nodes = {pick_node(r, s), pick_node(r, s)};
      if (v.disk_nodes[0] == v.disk_nodes[1]) {
        v.disk_nodes.pop_back();
      }
    }
    s.vms.push_back(v);
  }
  if (s.vms.empty()) {
    s.vms.push_back(vm_def{"vm0", 512, "n1", true, 0, "", false, {}});
  }
  s.timings.start_latency_ms = r.between(5, 40) * 100;
  s.timings.stop_latency_ms = r.between(5, 30) * 100;
  s.timings.fence_latency_ms = r.between(10, 100) * 100;
  s.timings.report_loss_percent = static_cast<int>(r.below(3) * 10);
}

// Ends the faults: every node powered, healed, able and reachable; no losses.
void add_quiet(scenario& s) {
  std::vector<std::string> quiet = {"heal", "report_delay 0", "report_loss 0"};
  for (const node_def& n : s.nodes) {
    for (const char* c : {"power_on ", "online ", "fence_device "}) {
      quiet.push_back(c + n.name);
    }
    quiet.push_back("fence_fault " + n.name + " ok");
  }
  for (const vm_def& v : s.vms) {
    quiet.push_back("start_fail " + v.name + " 0");
  }
  for (const std::string& c : quiet) {
    s.commands.push_back({random_fault_ms, c});
  }
  // Fence requests still queued at the switch power nodes off after the
  // faults ended; an administrator powers them on again.
  for (int64_t after_ms : {60'000, 120'000}) {
    for (const node_def& n : s.nodes) {
      s.commands.push_back({random_fault_ms + after_ms, "power_on " + n.name});
    }
  }
}

}  // namespace

scenario random_scenario(uint64_t seed) {
  prng r(seed);
  scenario s;
  add_cluster(r, s);
  for (int64_t at_ms = r.between(5, 30) * 1000; at_ms < random_fault_ms;
       at_ms += r.between(1, 15) * 1000) {
    s.commands.push_back({at_ms, random_fault(r, s)});
  }
  add_quiet(s);
  s.end_ms = random_fault_ms + random_quiet_ms;
  s.is_settled_end = true;
  return s;
}

}  // namespace vcube::sim
