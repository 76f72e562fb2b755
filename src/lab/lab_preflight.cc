#include "lab/lab_preflight.h"

#include <unistd.h>

#include <optional>

#include "env/files.h"
#include "env/process.h"
#include "lab/host_networks.h"
#include "lab/host_probe.h"
#include "lab/names.h"
#include "lab/vm_segment.h"

namespace vcube::lab {

status check_root() {
  if (geteuid() != 0)
    return make_error(errc::forbidden,
                      "the lab needs root (it creates network namespaces, links and mounts); run "
                      "it with sudo");
  return ok_status();
}

result<ipv4_subnet> check_lab_options(const lab_options& options) {
  if (options.nodes < nodes_min || options.nodes > nodes_max)
    return make_error(errc::invalid_input,
                      "--nodes must be " + std::to_string(nodes_min) + ".." +
                          std::to_string(nodes_max) + ", not " + std::to_string(options.nodes),
                      "nodes");
  auto subnet = parse_subnet(options.subnet);
  if (!subnet)
    return subnet;
  auto fits = check_lab_subnet(*subnet, options.nodes);
  if (!fits)
    return fits.err();
  auto apart = check_vm_segment_apart(*subnet);
  if (!apart)
    return apart.err();
  return subnet;
}

status check_no_lab() {
  std::string found;
  if (env::file_exists(state_file))
    found = state_file;
  else if (!list_lab_netns().empty())
    found = "network namespace " + list_lab_netns().front();
  else if (!list_lab_links().empty())
    found = "link " + list_lab_links().front();
  else if (env::file_exists(run_dir) || env::file_exists(data_dir))
    found = env::file_exists(run_dir) ? run_dir : data_dir;
  if (found.empty())
    return ok_status();
  return make_error(errc::conflict, "a lab already exists (found " + found +
                                        "); remove it with `vcube lab down` first");
}

namespace {

// The first host address or route that overlaps `subnet`, if any.
result<std::optional<host_network>> find_host_overlap(const ipv4_subnet& subnet) {
  auto addresses = env::run_checked({"ip", "-j", "-4", "addr", "show"});
  if (!addresses)
    return addresses.err();
  auto routes = env::run_checked({"ip", "-j", "-4", "route", "show", "table", "all"});
  if (!routes)
    return routes.err();
  auto networks = parse_ip_addresses(*addresses);
  if (!networks)
    return networks.err();
  auto route_networks = parse_ip_routes(*routes);
  if (!route_networks)
    return route_networks.err();
  networks->insert(networks->end(), route_networks->begin(), route_networks->end());
  return find_overlap(subnet, *networks);
}

}  // namespace

status check_subnet_unused(const ipv4_subnet& subnet) {
  auto overlap = find_host_overlap(subnet);
  if (!overlap)
    return overlap.err();
  if (!*overlap)
    return ok_status();
  return make_error(errc::invalid_input,
                    "the lab subnet " + format_subnet(subnet) + " overlaps " + (*overlap)->source +
                        " on this host; pick another with --subnet (e.g. --subnet 10.231.79.0/24)",
                    "subnet");
}

status check_vm_segment_unused() {
  auto segment = parse_subnet(vm_subnet);
  if (!segment)
    return segment.err();
  auto overlap = find_host_overlap(*segment);
  if (!overlap)
    return overlap.err();
  if (!*overlap)
    return ok_status();
  return make_error(errc::conflict, std::string("the lab's VM segment ") + vm_subnet +
                                        " overlaps " + (*overlap)->source +
                                        " on this host; the lab needs that subnet free");
}

}  // namespace vcube::lab
