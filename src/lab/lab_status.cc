// lab_status: what the lab looks like now, from the state file and from what
// actually exists on the host.
#include <set>

#include "env/files.h"
#include "lab/host_probe.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/lab_switch.h"
#include "lab/power_switch_state.h"
#include "lab/vm_segment.h"

namespace vcube::lab {
namespace {

std::string link_state(int k) {
  if (!link_exists(veth_name(k)))
    return "missing";
  return is_link_up(veth_name(k)) ? "up" : "partitioned";
}

std::string bridge_state(const char* bridge) {
  if (!link_exists(bridge))
    return "MISSING";
  return is_link_up(bridge) ? "up" : "down";
}

std::string processes(int k) {
  std::set<int> pids;
  for (int pid : pids_in_namespace("/run/netns/" + netns_name(k), "net"))
    pids.insert(pid);
  for (int pid : pids_in_namespace(mount_ns_file(k), "mnt"))
    pids.insert(pid);
  if (pids.empty())
    return "none";
  std::string out;
  for (int pid : pids)
    out += (out.empty() ? "" : ", ") + process_name(pid) + "[" + std::to_string(pid) + "]";
  return out;
}

void print_node(std::ostream& out, const lab_state& state, int k) {
  bool has_netns = env::file_exists("/run/netns/" + netns_name(k));
  bool has_mount_ns = is_mount_point(mount_ns_file(k));
  out << node_name(k) << "  " << state.node_addresses[k - 1] << "  https://"
      << state.node_addresses[k - 1] << ":8001\n"
      << "    namespaces: net " << (has_netns ? "yes" : "MISSING") << ", mount "
      << (has_mount_ns ? "yes" : "MISSING") << "; link " << link_state(k) << "\n"
      << "    processes: " << processes(k) << "\n";
}

void print_switch(std::ostream& out, const lab_state& state) {
  auto pid = lab_switch_pid();
  out << "power switch: ";
  if (!pid) {
    out << "NOT RUNNING (log " << switch_log_file << ")\n";
    return;
  }
  out << "running (pid " << *pid << "), https://127.0.0.1:" << state.switch_port
      << " inside each node, log " << switch_log_file << "\n    outlets:";
  auto states = read_power_states(switch_state_file, state.nodes);
  for (int k = 1; states && k <= state.nodes; ++k)
    out << " " << node_name(k) << " " << power_state_name((*states)[k - 1]);
  out << (states ? "\n" : " unknown (" + states.err().message + ")\n");
}

// Without a state file only the names on the host tell what is left.
status print_orphans(std::ostream& out) {
  auto netns = list_lab_netns();
  auto links = list_lab_links();
  if (netns.empty() && links.empty() && !env::file_exists(run_dir)) {
    out << "no lab (start one with `vcube lab up`)\n";
    return ok_status();
  }
  out << "no lab state (" << state_file << ") but lab objects exist; remove them with "
      << "`vcube lab down`:\n";
  for (const auto& name : netns)
    out << "  network namespace " << name << "\n";
  for (const auto& name : links)
    out << "  link " << name << "\n";
  return ok_status();
}

}  // namespace

status lab_status(std::ostream& out) {
  auto root = check_root();
  if (!root)
    return root;
  auto state = read_lab_state();
  if (!state && state.err().code == errc::not_found)
    return print_orphans(out);
  if (!state)
    return state.err();
  out << "lab: " << state->nodes << " nodes on " << state->subnet << ", bridge " << bridge_name
      << " " << bridge_state(bridge_name) << "\n";
  out << "VM segment: " << vm_subnet << ", bridge " << vm_bridge_name << " "
      << bridge_state(vm_bridge_name) << ", host " << vm_host_address << "\n";
  for (int k = 1; k <= state->nodes; ++k)
    print_node(out, *state, k);
  print_switch(out, *state);
  out << "admin password file: " << state->password_file << "\n";
  return ok_status();
}

}  // namespace vcube::lab
