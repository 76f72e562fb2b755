#include "vswitch/vswitch.h"

#include <algorithm>
#include <mutex>

#include "env/process.h"
#include "vswitch/names.h"
#include "vswitch/network_plan.h"
#include "vswitch/tap_plan.h"

namespace vcube::vswitch {
namespace {

std::mutex switch_mutex;

// The kernel's message for a missing link type is obscure; say what is missing.
std::string explain(const command& argv, const std::string& ip_error) {
  std::string message = "`" + format_command(argv) + "` failed: " + ip_error;
  bool adds_vlan = argv.size() > 2 && argv[1] == "link" && argv[2] == "add" &&
                   std::find(argv.begin(), argv.end(), "vlan") != argv.end();
  if (adds_vlan && ip_error.find("Unknown device type") != std::string::npos)
    message += " (this kernel has no 802.1Q VLAN support: load module 8021q, or use vlan 0)";
  return message;
}

result<link_map> read_links_locked() {
  auto out = env::run_checked({"ip", "-j", "-d", "link", "show"}, {}, ip_timeout);
  if (!out)
    return out.err();
  return parse_links(*out);
}

status run_locked(const std::vector<command>& commands) {
  for (const auto& argv : commands) {
    auto r = env::run(argv, {}, ip_timeout);
    if (!r)
      return make_error(r.err().code, "`" + format_command(argv) + "`: " + r.err().message);
    if (r->exit_code != 0) {
      std::string text = r->err.empty() ? r->out : r->err;
      while (!text.empty() && text.back() == '\n')
        text.pop_back();
      return make_error(errc::internal, explain(argv, text));
    }
  }
  return ok_status();
}

status create_tap_locked(const std::string& vm, int nic_index, const network& net) {
  auto links = read_links_locked();
  if (!links)
    return links.err();
  auto plan = plan_tap(vm, nic_index, net, *links);
  if (!plan)
    return plan.err();
  return run_locked(*plan);
}

status remove_taps_locked(const std::string& vm) {
  auto links = read_links_locked();
  if (!links)
    return links.err();
  return run_locked(plan_remove_taps(vm, *links));
}

}  // namespace

result<link_map> read_links() {
  std::lock_guard lock(switch_mutex);
  return read_links_locked();
}

status run_commands(const std::vector<command>& commands) {
  std::lock_guard lock(switch_mutex);
  return run_locked(commands);
}

status reconcile_networks(const std::vector<network>& networks, const std::string& uplink) {
  std::lock_guard lock(switch_mutex);
  auto links = read_links_locked();
  if (!links)
    return links.err();
  auto plan = plan_networks(networks, uplink, *links);
  if (auto ran = run_locked(plan.commands); !ran)
    return ran;
  if (plan.problems.empty())
    return ok_status();
  std::string message;
  for (const auto& problem : plan.problems)
    message += (message.empty() ? "" : "; ") + problem.message;
  return make_error(plan.problems.front().code, message, plan.problems.front().field);
}

result<std::string> create_tap(const std::string& vm, int nic_index, const network& net) {
  std::lock_guard lock(switch_mutex);
  if (auto s = create_tap_locked(vm, nic_index, net); !s)
    return s.err();
  return tap_name(vm, nic_index);
}

result<std::vector<std::string>> create_taps(const std::string& vm,
                                             const std::vector<network>& nic_networks) {
  std::lock_guard lock(switch_mutex);
  std::vector<std::string> taps;
  for (std::size_t i = 0; i < nic_networks.size(); ++i) {
    auto created = create_tap_locked(vm, static_cast<int>(i), nic_networks[i]);
    if (!created) {
      (void)remove_taps_locked(vm);  // the first error is the one worth reporting
      return created.err();
    }
    taps.push_back(tap_name(vm, static_cast<int>(i)));
  }
  return taps;
}

status remove_taps(const std::string& vm) {
  std::lock_guard lock(switch_mutex);
  return remove_taps_locked(vm);
}

}  // namespace vcube::vswitch
