// Faults and recovery on a running lab: kill/start a node, cut/restore its
// link, run a command inside it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "env/files.h"
#include "env/process.h"
#include "lab/host_probe.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/lab_switch.h"
#include "lab/power_switch_state.h"

namespace vcube::lab {
namespace {

constexpr auto kill_timeout = std::chrono::seconds(10);
constexpr auto start_timeout = std::chrono::seconds(120);

// The lab's state when `node` is one of its nodes whose namespaces exist.
result<lab_state> existing_node(int node) {
  auto root = check_root();
  if (!root)
    return root.err();
  auto state = read_lab_state();
  if (!state)
    return state;
  if (node < 1 || node > state->nodes)
    return make_error(
        errc::invalid_input,
        "the lab has nodes n1..n" + std::to_string(state->nodes) + ", not n" + std::to_string(node),
        "node");
  if (!env::file_exists("/run/netns/" + netns_name(node)) || !is_mount_point(mount_ns_file(node)))
    return make_error(errc::not_found, "the namespaces of " + node_name(node) +
                                           " are missing; rebuild the lab (`vcube lab down`, "
                                           "`vcube lab up`)");
  return state;
}

status set_link(int node, bool up) {
  auto state = existing_node(node);
  if (!state)
    return state.err();
  auto r = env::run_checked({"ip", "link", "set", veth_name(node), up ? "up" : "down"}, {},
                            std::chrono::seconds(20));
  if (!r)
    return r.err();
  return ok_status();
}

}  // namespace

result<int> parse_lab_node(const std::string& text) {
  auto state = read_lab_state();
  return parse_node_argument(text, state ? state->nodes : 0);
}

status lab_kill(int node) {
  auto state = existing_node(node);
  if (!state)
    return state.err();
  return kill_namespace_processes({"/run/netns/" + netns_name(node), mount_ns_file(node)},
                                  kill_timeout);
}

status lab_boot(int node) {
  auto state = existing_node(node);
  if (!state)
    return state.err();
  return run_in_node(node, {state->vcube_exe, "service", "start"}, start_timeout);
}

status lab_start(int node) {
  auto state = existing_node(node);
  if (!state)
    return state.err();
  auto powers = read_power_states(switch_state_file, state->nodes);
  bool is_off = powers && (*powers)[static_cast<size_t>(node - 1)] == power_state::off;
  if (!is_off || !lab_switch_pid())
    return lab_boot(node);
  // A node's own requests are dropped while its outlet is off: ask from a powered one.
  int from = 0;
  for (int k = 1; k <= state->nodes && from == 0; ++k)
    if (k != node && (*powers)[static_cast<size_t>(k - 1)] == power_state::on)
      from = k;
  if (from == 0)
    return make_error(errc::conflict, "every outlet of the lab's switch is off");
  std::string url = "https://127.0.0.1:" + std::to_string(state->switch_port) +
                    switch_systems_uri(node) + "/Actions/ComputerSystem.Reset";
  // The credentials go through curl's config on stdin, not the command line.
  std::string config = "user = \"" + state->switch_username + ":" + state->switch_password + "\"\n";
  auto r = env::run_checked(
      {"nsenter", "--net=/run/netns/" + netns_name(from), "curl", "-sSk", "--fail", "--max-time",
       "150", "-K", "-", "-X", "POST", "-H", "Content-Type: application/json", "-d",
       R"({"ResetType":"On"})", "-o", "/dev/null", url},
      config, start_timeout + std::chrono::seconds(30));
  if (!r)
    return make_error(r.err().code, "powering " + node_name(node) +
                                        " on through the lab's switch: " + r.err().message);
  return ok_status();
}

status lab_partition(int node) {
  return set_link(node, false);
}

status lab_heal(std::optional<int> node) {
  if (node)
    return set_link(*node, true);
  auto state = read_lab_state();
  if (!state)
    return state.err();
  for (int k = 1; k <= state->nodes; ++k) {
    auto healed = set_link(k, true);
    if (!healed)
      return healed;
  }
  return ok_status();
}

int lab_exec(int node, const std::vector<std::string>& argv) {
  if (argv.empty()) {
    dprintf(2, "vcube lab exec: no command given (vcube lab exec NODE -- CMD...)\n");
    return 125;
  }
  auto state = existing_node(node);
  if (!state) {
    dprintf(2, "vcube lab exec: %s\n", state.err().message.c_str());
    return 125;
  }
  auto full = node_command_prefix(node);
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (const auto& a : full)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Like system(): the terminal's ^C is for the command, not for us.
  struct sigaction ignore {
  }, old_int{}, old_quit{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);
  pid_t pid = fork();
  if (pid == 0) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    execvp(args[0], args.data());
    dprintf(2, "vcube lab exec: cannot execute %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  int wstatus = 0;
  while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  if (pid < 0) {
    dprintf(2, "vcube lab exec: fork: %s\n", strerror(errno));
    return 125;
  }
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

}  // namespace vcube::lab
