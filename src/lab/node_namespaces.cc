#include "lab/node_namespaces.h"

#include <filesystem>

#include "env/files.h"
#include "env/process.h"
#include "lab/names.h"

namespace vcube::lab {
namespace {

// Node directory name -> where the node sees it.
constexpr const char* private_directories =
    "etc-vcube:/etc/vcube var-lib-vcube:/var/lib/vcube etc-corosync:/etc/corosync "
    "var-lib-corosync:/var/lib/corosync var-log-corosync:/var/log/corosync "
    "var-log-vcube:/var/log/vcube";

status run_all(const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    auto r = env::run_checked(argv, {}, std::chrono::seconds(20));
    if (!r)
      return r.err();
  }
  return ok_status();
}

status create_network(const ipv4_subnet& subnet, int k) {
  std::string ns = netns_name(k);
  std::string address = node_address(subnet, k) + "/" + std::to_string(subnet.prefix_length);
  return run_all({
      {"ip", "netns", "add", ns},
      {"ip", "link", "add", veth_name(k), "type", "veth", "peer", "name", "eth0", "netns", ns},
      {"ip", "link", "set", veth_name(k), "master", bridge_name, "up"},
      {"ip", "-n", ns, "addr", "add", address, "dev", "eth0"},
      {"ip", "-n", ns, "link", "set", "eth0", "up"},
      {"ip", "-n", ns, "link", "set", "lo", "up"},
  });
}

status create_mount_namespace(int k) {
  auto dir = env::make_directories(node_data_dir(k), 0700);
  if (!dir)
    return dir;
  // unshare binds the new namespace onto an existing file.
  auto placeholder = env::write_file_atomic(mount_ns_file(k), "", 0600);
  if (!placeholder)
    return placeholder;
  return run_all(
      {{"unshare", "--mount=" + mount_ns_file(k), "--propagation", "private", "sh", "-c",
        node_mount_setup_script(), "vcube-lab-setup", node_data_dir(k), shared_images_dir}});
}

}  // namespace

// Entering a mount namespace moves the caller to its root; --wd keeps the
// caller's working directory, so relative paths mean the same inside a node.
std::vector<std::string> node_command_prefix(int k) {
  std::vector<std::string> prefix = {"nsenter", "--net=/run/netns/" + netns_name(k),
                                     "--mount=" + mount_ns_file(k)};
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  // (/run and /dev/shm are the node's own tmpfs: the directory may not exist there.)
  bool is_private = cwd.string().starts_with("/run") || cwd.string().starts_with("/dev");
  if (!ec && !is_private)
    prefix.push_back("--wd=" + cwd.string());
  return prefix;
}

std::string node_mount_setup_script() {
  return std::string(
             "set -eu\n"
             "data=\"$1\"\n"
             // The host's nsfs mounts would otherwise stay pinned in this
             // namespace (under the tmpfs) and keep other nodes' namespaces alive.
             "for m in /run/netns /run/vcube-lab; do umount -l \"$m\" 2>/dev/null || true; done\n"
             "for pair in ") +
         private_directories +
         "; do\n"
         "  mkdir -p \"$data/${pair%%:*}\" \"${pair#*:}\"\n"
         "  mount --bind \"$data/${pair%%:*}\" \"${pair#*:}\"\n"
         "done\n"
         "mkdir -p \"$2\" /var/lib/vcube/images\n"
         "mount --bind \"$2\" /var/lib/vcube/images\n"
         "mount -t tmpfs -o mode=0755 vcube-lab-run /run\n"
         "mkdir -p /run/vcube\n"
         "mount -t tmpfs -o mode=1777 vcube-lab-shm /dev/shm\n";
}

status create_node_namespaces(const ipv4_subnet& subnet, int k) {
  auto network = create_network(subnet, k);
  if (!network)
    return make_error(network.err().code,
                      "node " + node_name(k) + " network: " + network.err().message);
  auto mounts = create_mount_namespace(k);
  if (!mounts)
    return make_error(mounts.err().code,
                      "node " + node_name(k) + " mount namespace: " + mounts.err().message);
  return ok_status();
}

}  // namespace vcube::lab
