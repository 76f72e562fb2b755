// lab_up and lab_create_infrastructure: build the host side of a lab.
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "env/files.h"
#include "env/process.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/lab_switch.h"
#include "lab/password.h"
#include "lab/vm_segment.h"

namespace vcube::lab {
namespace {

constexpr std::size_t password_length = 24;

result<std::string> resolve_vcube_exe(const lab_options& options) {
  // Absolute: commands inside a node start in the node's root directory.
  if (!options.vcube_exe.empty())
    return std::filesystem::absolute(options.vcube_exe).string();
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    return make_error(errc::internal, std::string("readlink /proc/self/exe: ") + strerror(errno));
  return std::string(path, static_cast<size_t>(n));
}

// A private bind mount of itself: a mount namespace's nsfs file can only be
// bound below a mount that does not propagate into that namespace.
status make_run_dir() {
  auto dir = env::make_directories(run_dir, 0700);
  if (!dir)
    return dir;
  if (mount(run_dir, run_dir, nullptr, MS_BIND, nullptr) != 0 ||
      mount(nullptr, run_dir, nullptr, MS_PRIVATE, nullptr) != 0)
    return make_error(errc::internal, std::string("cannot make ") + run_dir +
                                          " a private mount: " + strerror(errno));
  return ok_status();
}

status write_state_and_password(const lab_options& options) {
  auto exe = resolve_vcube_exe(options);
  if (!exe)
    return exe.err();
  auto dir = env::make_directories(data_dir, 0700);
  if (!dir)
    return dir;
  auto password = generate_password(password_length);
  if (!password)
    return password.err();
  auto written = env::write_file_atomic(password_file, *password + "\n", 0600);
  if (!written)
    return written;
  auto switch_password = generate_password(password_length);
  if (!switch_password)
    return switch_password.err();
  written = env::write_file_atomic(switch_password_file, *switch_password + "\n", 0600);
  if (!written)
    return written;
  lab_state state;
  state.nodes = options.nodes;
  state.subnet = options.subnet;
  state.password_file = password_file;
  state.vcube_exe = *exe;
  state.switch_username = switch_username;
  state.switch_password_file = switch_password_file;
  state.switch_port = switch_port;
  return write_lab_state(state);
}

status create_bridge(const ipv4_subnet& subnet) {
  std::string address = host_address(subnet) + "/" + std::to_string(subnet.prefix_length);
  for (const auto& argv :
       std::vector<std::vector<std::string>>{{"ip", "link", "add", bridge_name, "type", "bridge"},
                                             {"ip", "addr", "add", address, "dev", bridge_name},
                                             {"ip", "link", "set", bridge_name, "up"}}) {
    auto r = env::run_checked(argv, {}, std::chrono::seconds(20));
    if (!r)
      return r.err();
  }
  return ok_status();
}

status build_lab(const lab_options& options, const ipv4_subnet& subnet) {
  auto step = make_run_dir();
  if (step)
    step = write_state_and_password(options);
  if (step)
    step = create_bridge(subnet);
  if (step)
    step = create_vm_bridge();
  for (int k = 1; step && k <= options.nodes; ++k) {
    step = create_node_namespaces(subnet, k);
    if (step)
      step = connect_node_to_vm_segment(k);
  }
  return step;
}

}  // namespace

status lab_create_infrastructure(const lab_options& options) {
  auto root = check_root();
  if (!root)
    return root;
  auto subnet = check_lab_options(options);
  if (!subnet)
    return subnet.err();
  auto none = check_no_lab();
  if (!none)
    return none;
  auto unused = check_subnet_unused(*subnet);
  if (!unused)
    return unused;
  auto segment_unused = check_vm_segment_unused();
  if (!segment_unused)
    return segment_unused;
  auto built = build_lab(options, *subnet);
  if (built)
    return built;
  auto removed = lab_down();
  return make_error(built.err().code,
                    "cannot build the lab: " + built.err().message +
                        (removed ? " (what was built has been removed)"
                                 : "; cleaning up failed too: " + removed.err().message +
                                       " (run `vcube lab down`)"));
}

status lab_up(const lab_options& options, std::ostream& out) {
  auto infrastructure = lab_create_infrastructure(options);
  if (!infrastructure)
    return infrastructure;
  auto built = read_lab_state();
  if (!built)
    return built.err();
  // Before the cluster: a node may need fencing as soon as it is a member.
  auto switched = start_lab_switch(*built);
  if (!switched)
    return make_error(switched.err().code,
                      switched.err().message +
                          "\nThe lab stays up for inspection; remove it with `vcube lab down`.");
  auto formed = lab_form_cluster(options);
  if (!formed)
    return make_error(
        formed.err().code,
        formed.err().message +
            "\nThe lab stays up for inspection (`vcube lab status`, `vcube lab exec`); "
            "remove it with `vcube lab down`.");
  auto state = read_lab_state();
  if (!state)
    return state.err();
  out << "lab is up: " << state->nodes << " nodes on " << state->subnet << " (bridge "
      << bridge_name << ")\n";
  for (int k = 1; k <= state->nodes; ++k)
    out << "  " << node_name(k) << "  https://" << state->node_addresses[k - 1] << ":8001\n";
  out << "VM segment: " << vm_subnet << " on bridge " << vm_bridge_name << " (host "
      << vm_host_address << "); each node's vm_uplink is " << vm_uplink_name << "\n";
  out << "admin password: " << state->admin_password << "  (also in " << state->password_file
      << ")\n";
  out << "power switch: https://127.0.0.1:" << state->switch_port << " inside each node (user "
      << state->switch_username << ", password in " << state->switch_password_file << "), log "
      << switch_log_file << "\n";
  return ok_status();
}

}  // namespace vcube::lab
