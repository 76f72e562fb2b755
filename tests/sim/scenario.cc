#include "tests/sim/scenario.h"

#include <algorithm>
#include <sstream>

namespace vcube::sim {
namespace {

// "key=value" words after the first ones of a line.
std::string option(const std::string& line, const std::string& key, const std::string& fallback) {
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    if (word.rfind(key + "=", 0) == 0) {
      return word.substr(key.size() + 1);
    }
  }
  return fallback;
}

bool has_word(const std::string& line, const std::string& wanted) {
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    if (word == wanted) {
      return true;
    }
  }
  return false;
}

vm_def parse_vm(const std::string& line, const std::string& name) {
  vm_def v;
  v.name = name;
  v.memory_mib = std::stoll(option(line, "memory", "1024"));
  v.preferred = option(line, "prefer", "");
  v.home = option(line, "home", v.preferred.empty() ? "n1" : v.preferred);
  v.priority = std::stoi(option(line, "priority", "0"));
  v.is_sticky = has_word(line, "sticky");
  v.wants_running = !has_word(line, "stopped");
  std::istringstream disks(option(line, "disks", ""));
  for (std::string node; std::getline(disks, node, ',');) {
    v.disk_nodes.push_back(node);
  }
  return v;
}

void parse_timing(const std::string& line, timing& t) {
  t.start_latency_ms = std::stoll(option(line, "start_ms", std::to_string(t.start_latency_ms)));
  t.stop_latency_ms = std::stoll(option(line, "stop_ms", std::to_string(t.stop_latency_ms)));
  t.fence_latency_ms = std::stoll(option(line, "fence_ms", std::to_string(t.fence_latency_ms)));
  t.report_delay_ms = std::stoll(option(line, "report_delay_ms", "0"));
  t.report_loss_percent = std::stoi(option(line, "report_loss_percent", "0"));
}

}  // namespace

bool parse_scenario(const std::string& text, scenario& out, std::string& error) {
  std::istringstream lines(text);
  std::string line;
  bool is_log = false;
  while (std::getline(lines, line)) {
    if (is_log) {
      out.expected_log.push_back(line);
      continue;
    }
    std::istringstream words(line);
    std::string verb;
    if (!(words >> verb) || verb[0] == '#') {
      continue;
    }
    std::string name;
    if (verb == "---") {
      is_log = true;
    } else if (verb == "node") {
      words >> name;
      node_def n{name, static_cast<int>(out.nodes.size()) + 1,
                 std::stoll(option(line, "memory", "4096")), !has_word(line, "no_fence_device"),
                 ha::node_mode::online};
      out.nodes.push_back(n);
    } else if (verb == "vm") {
      words >> name;
      out.vms.push_back(parse_vm(line, name));
    } else if (verb == "timing") {
      parse_timing(line, out.timings);
    } else if (verb == "at") {
      double at_s = 0;
      words >> at_s;
      std::string rest;
      std::getline(words, rest);
      out.commands.push_back(
          {static_cast<int64_t>(at_s * 1000), rest.substr(rest.find_first_not_of(' '))});
    } else if (verb == "end") {
      double end_s = 0;
      words >> end_s;
      out.end_ms = static_cast<int64_t>(end_s * 1000);
      out.is_settled_end = has_word(line, "settled");
    } else {
      error = "unknown line: " + line;
      return false;
    }
  }
  std::stable_sort(
      out.commands.begin(), out.commands.end(),
      [](const timed_command& a, const timed_command& b) { return a.at_ms < b.at_ms; });
  return true;
}

std::string scenario_header(const scenario& s) {
  std::ostringstream text;
  for (const node_def& n : s.nodes) {
    text << "node " << n.name << " memory=" << n.memory_mib
         << (n.has_fence_device ? "" : " no_fence_device") << "\n";
  }
  for (const vm_def& v : s.vms) {
    text << "vm " << v.name << " memory=" << v.memory_mib << " home=" << v.home
         << " priority=" << v.priority << (v.preferred.empty() ? "" : " prefer=" + v.preferred)
         << (v.is_sticky ? " sticky" : "") << (v.wants_running ? "" : " stopped");
    for (size_t i = 0; i < v.disk_nodes.size(); ++i) {
      text << (i == 0 ? " disks=" : ",") << v.disk_nodes[i];
    }
    text << "\n";
  }
  const timing& t = s.timings;
  text << "timing start_ms=" << t.start_latency_ms << " stop_ms=" << t.stop_latency_ms
       << " fence_ms=" << t.fence_latency_ms << " report_delay_ms=" << t.report_delay_ms
       << " report_loss_percent=" << t.report_loss_percent << "\n";
  for (const timed_command& c : s.commands) {
    text << "at " << static_cast<double>(c.at_ms) / 1000.0 << " " << c.text << "\n";
  }
  text << "end " << static_cast<double>(s.end_ms) / 1000.0 << (s.is_settled_end ? " settled" : "")
       << "\n";
  return text.str();
}

run_result run_scenario(const scenario& s, bool is_logging, uint64_t seed) {
  world w(s.nodes, s.vms, ha::settings{}, s.timings, seed);
  if (is_logging) {
    w.enable_log();
  }
  run_result result;
  result.problems = run_commands(w, s.commands, s.end_ms);
  if (result.problems.empty() && s.is_settled_end) {
    result.problems = check_settled(w);
  }
  result.log = w.log();
  for (const auto& [vm, r] : w.newest_copy().ha.vms) {
    result.log.push_back("final " + vm + " " + ha::to_string(r.state) + " on " + r.node +
                         " epoch " + std::to_string(r.epoch) +
                         (r.target_running ? " target running" : " target stopped") +
                         (r.message.empty() ? "" : ": " + r.message));
  }
  for (const auto& [vm, report] : w.newest_copy().reports) {
    result.log.push_back("final report " + vm + " from " + report.node + " epoch " +
                         std::to_string(report.ha_epoch) +
                         (report.state == ha::run_state::running ? " running" : " not running"));
  }
  for (const std::string& p : result.problems) {
    result.log.push_back("VIOLATION: " + p);
  }
  return result;
}

}  // namespace vcube::sim
