#include "tests/sim/commands.h"

#include <sstream>

#include "ha/check.h"

namespace vcube::sim {
namespace {

std::vector<std::vector<std::string>> parse_groups(std::istringstream& words) {
  std::vector<std::vector<std::string>> groups(1);
  std::string word;
  while (words >> word) {
    if (word == "|") {
      groups.emplace_back();
      continue;
    }
    std::istringstream names(word);
    std::string name;
    while (std::getline(names, name, ',')) {
      groups.back().push_back(name);
    }
  }
  return groups;
}

std::string apply_fence_fault(world& w, const std::string& node, std::istringstream& words) {
  std::string kind;
  int64_t value = 0;
  words >> kind >> value;
  fence_fault fault;
  if (kind == "fail") {
    fault.failures = static_cast<int>(value);
  } else if (kind == "unreachable") {
    fault.is_unreachable = true;
  } else if (kind == "slow") {
    fault.extra_latency_ms = value;
  } else if (kind != "ok") {
    return "unknown fence fault " + kind;
  }
  w.note("fence device of " + node + ": " + kind + (value != 0 ? " " + std::to_string(value) : ""));
  w.set_fence_fault(node, fault);
  return {};
}

// Administrator edits of the configuration (what `vcube` would write).
std::string apply_admin(world& w, const std::string& verb, std::istringstream& words) {
  std::string name;
  std::string arg;
  words >> name >> arg;
  if (verb == "standby" || verb == "online") {
    w.node(name).mode = verb == "standby" ? ha::node_mode::standby : ha::node_mode::online;
  } else if (verb == "no_fence_device" || verb == "fence_device") {
    w.node(name).has_fence_device = verb == "fence_device";
  } else if (verb == "stop" || verb == "start") {
    w.vm(name).wants_running = verb == "start";
  } else if (verb == "prefer") {
    w.vm(name).preferred = arg;
  } else if (verb == "release") {
    w.vm(name).is_sticky = false;
  } else if (verb == "move") {
    w.request_move(name, arg);
  } else {
    return "unknown command " + verb;
  }
  w.note("admin: " + verb + " " + name + (arg.empty() ? "" : " " + arg));
  return {};
}

}  // namespace

std::string apply_command(world& w, const std::string& text) {
  std::istringstream words(text);
  std::string verb;
  std::string name;
  words >> verb;
  if (verb == "partition") {
    w.partition(parse_groups(words));
    return {};
  }
  if (verb == "heal") {
    w.heal();
    return {};
  }
  if (verb == "clock") {
    int64_t delta_s = 0;
    words >> delta_s;
    w.jump_clock_ms(delta_s * 1000);
    return {};
  }
  if (verb == "report_delay" || verb == "report_loss") {
    int64_t value = 0;
    words >> value;
    if (verb == "report_delay") {
      w.timings().report_delay_ms = value;
    } else {
      w.timings().report_loss_percent = static_cast<int>(value);
    }
    w.note(verb + " " + std::to_string(value));
    return {};
  }
  words >> name;
  if (verb == "crash") {
    w.crash_node(name);
  } else if (verb == "power_on") {
    w.power_on(name);
  } else if (verb == "fence_fault") {
    return apply_fence_fault(w, name, words);
  } else if (verb == "guest_off" || verb == "vm_crash") {
    w.stop_guest(name, verb == "vm_crash");
  } else if (verb == "start_fail") {
    int count = 0;
    words >> count;
    w.fail_next_starts(name, count);
  } else {
    std::istringstream rest(text);
    rest >> verb;
    return apply_admin(w, verb, rest);
  }
  return {};
}

std::vector<std::string> run_commands(world& w, const std::vector<timed_command>& commands,
                                      int64_t end_ms) {
  size_t next = 0;
  while (w.now_ms() < end_ms) {
    while (next < commands.size() && commands[next].at_ms <= w.now_ms()) {
      std::string error = apply_command(w, commands[next].text);
      HA_CHECK(error.empty());
      ++next;
    }
    w.step();
    if (!w.violations().empty()) {
      break;
    }
  }
  return w.violations();
}

std::vector<std::string> check_settled(const world& w) {
  std::vector<std::string> problems;
  const domain_copy& copy = w.newest_copy();
  std::map<std::string, int64_t> free_mib;
  for (const node_def& d : w.node_defs()) {
    free_mib[d.name] = d.memory_mib;
  }
  for (const vm_def& v : w.vm_defs()) {
    if (w.running().contains(v.name)) {
      for (const std::string& n : w.running().at(v.name)) {
        free_mib[n] -= v.memory_mib;
      }
    }
  }
  for (const vm_def& v : w.vm_defs()) {
    const std::set<std::string>& on =
        w.running().count(v.name) ? w.running().at(v.name) : std::set<std::string>{};
    auto rec = copy.ha.vms.find(v.name);
    if (!v.wants_running) {
      if (!on.empty()) {
        problems.push_back(v.name + " is not wanted but runs");
      }
      continue;
    }
    if (on.empty()) {
      bool is_excused = rec != copy.ha.vms.end() && rec->second.state == ha::vm_state::error;
      bool has_room = false;
      for (const node_def& d : w.node_defs()) {
        has_room = has_room ||
                   (w.is_powered(d.name) && d.has_fence_device && d.mode == ha::node_mode::online &&
                    free_mib[d.name] >= v.memory_mib && (!v.is_sticky || d.name == v.home));
      }
      if (!is_excused && has_room) {
        problems.push_back(v.name + " can be placed but does not run");
      }
      continue;
    }
    const std::string& node = *on.begin();
    if (v.is_sticky || v.preferred.empty() || v.preferred == node) {
      continue;
    }
    const node_def* p = nullptr;
    for (const node_def& d : w.node_defs()) {
      p = d.name == v.preferred ? &d : p;
    }
    if (w.is_powered(p->name) && p->has_fence_device && p->mode == ha::node_mode::online &&
        free_mib[p->name] >= v.memory_mib) {
      problems.push_back(v.name + " runs on " + node + ", not on its able preferred node " +
                         p->name);
    }
  }
  return problems;
}

}  // namespace vcube::sim
