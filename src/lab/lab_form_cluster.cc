// lab_form_cluster: the real path a person takes, `vcube cluster create` on the
// first node and `vcube cluster join` on the others, each inside its node.
// Then each node's node.json gets "vm_uplink": "vmup" (vm_segment.h): those
// commands write node.json themselves and refuse to run when it exists, so it
// is added afterwards; vcubed reads it when it reconciles the networks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/paths.h"
#include "env/process.h"
#include "lab/lab.h"
#include "lab/node_namespaces.h"
#include "lab/power_switch_routes.h"
#include "lab/vm_segment.h"

namespace vcube::lab {
namespace {

constexpr auto create_timeout = std::chrono::seconds(120);
constexpr auto join_timeout = std::chrono::seconds(120);
constexpr auto api_ready_timeout = std::chrono::seconds(60);
constexpr auto command_timeout = std::chrono::seconds(60);
// A short token, exact whatever the node count (token coefficient 0): a
// killed node is noticed in about 2 s (token + consensus). The failover
// benchmark's setting; real clusters keep the defaults (3000 ms, 650 ms).
constexpr int lab_token_ms = 1000;

bool accepts_tcp(const std::string& address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  timeval limit{.tv_sec = 2, .tv_usec = 0};  // connect() honours the send timeout
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  close(fd);
  return ok;
}

// Joining needs node 1's API; `cluster create` may return before it listens.
status wait_for_api(const std::string& address) {
  auto deadline = std::chrono::steady_clock::now() + api_ready_timeout;
  while (!accepts_tcp(address, paths::api_port)) {
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(errc::timeout, "n1's API (" + address + ":" +
                                           std::to_string(paths::api_port) +
                                           ") did not accept connections within 60 s; see " +
                                           node_log_file(1) + " and n1's /var/log/vcube");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ok_status();
}

// A CLI command inside node 1; `input` on its stdin.
status run_cli_in_n1(const std::string& exe, std::vector<std::string> args,
                     const std::string& input = {}) {
  auto argv = node_command_prefix(1);
  argv.push_back(exe);
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = env::run_checked(argv, input, command_timeout);
  if (!r)
    return make_error(r.err().code,
                      "vcube " + args[0] + " " + args[1] + " in n1: " + r.err().message);
  return ok_status();
}

// The switch as the fence device of every node (docs/fencing.md), then every
// node online. The password goes over stdin, not the command line.
status configure_fencing(const lab_state& state, const std::string& exe) {
  if (state.switch_password.empty())
    return make_error(errc::internal,
                      "cannot read the switch password " + state.switch_password_file);
  std::vector<std::string> add = {"fence",
                                  "device",
                                  "add",
                                  "lab-switch",
                                  "--agent",
                                  "fence_redfish",
                                  "--option",
                                  "ip=127.0.0.1",
                                  "--option",
                                  "ipport=" + std::to_string(state.switch_port),
                                  "--option",
                                  "username=" + state.switch_username,
                                  "--option",
                                  "ssl_insecure=1",
                                  "--password-file",
                                  "/dev/stdin",
                                  "--description",
                                  "lab power switch"};
  for (int k = 1; k <= state.nodes; ++k) {
    add.push_back("--node");
    add.push_back(node_name(k) + ":systems_uri=" + switch_systems_uri(k));
  }
  if (auto added = run_cli_in_n1(exe, add, state.switch_password + "\n"); !added)
    return added;
  for (int k = 1; k <= state.nodes; ++k)
    if (auto online = run_cli_in_n1(exe, {"node", "set-online", node_name(k)}); !online)
      return online;
  return ok_status();
}

}  // namespace

status lab_form_cluster(const lab_options& options) {
  auto state = read_lab_state();
  if (!state)
    return state.err();
  std::string exe = options.vcube_exe.empty() ? state->vcube_exe : options.vcube_exe;
  const auto& addresses = state->node_addresses;
  auto created = run_in_node(1,
                             {exe, "cluster", "create", "lab", "--name", node_name(1), "--address",
                              addresses[0], "--password-file", state->password_file, "--token-ms",
                              std::to_string(lab_token_ms), "--token-coefficient-ms", "0"},
                             create_timeout);
  if (!created)
    return created;
  if (auto uplink = add_vm_uplink(node_config_path(1)); !uplink)
    return uplink;
  auto ready = wait_for_api(addresses[0]);
  if (!ready)
    return ready;
  for (int k = 2; k <= state->nodes; ++k) {
    auto joined =
        run_in_node(k,
                    {exe, "cluster", "join", addresses[0], "--name", node_name(k), "--address",
                     addresses[k - 1], "--password-file", state->password_file},
                    join_timeout);
    if (!joined)
      return joined;
    if (auto uplink = add_vm_uplink(node_config_path(k)); !uplink)
      return uplink;
  }
  return configure_fencing(*state, exe);
}

}  // namespace vcube::lab
