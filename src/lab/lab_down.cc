// lab_down: remove every trace of a lab, discovering what exists by name
// (vcube-lab*) and by mount table, never trusting a state file.
#include <filesystem>

#include "env/files.h"
#include "env/process.h"
#include "lab/host_probe.h"
#include "lab/lab.h"
#include "lab/lab_preflight.h"
#include "lab/lab_switch.h"

namespace vcube::lab {
namespace {

constexpr auto kill_timeout = std::chrono::seconds(10);

// Collects failures and keeps going: down removes as much as it can.
struct problems {
  std::string text;
  void add(const status& s) {
    if (!s)
      text += (text.empty() ? "" : "; ") + s.err().message;
  }
};

std::vector<std::string> mount_ns_files() {
  std::vector<std::string> out;
  for (const auto& point : mounts_under(run_dir)) {
    if (point.size() > 4 && point.ends_with(".mnt"))
      out.push_back(point);
  }
  return out;
}

void kill_everything(problems& found) {
  std::vector<std::string> namespaces;
  for (const auto& name : list_lab_netns())
    namespaces.push_back("/run/netns/" + name);
  for (const auto& file : mount_ns_files())
    namespaces.push_back(file);
  found.add(kill_namespace_processes(namespaces, kill_timeout));
}

void delete_netns_and_links(problems& found) {
  for (const auto& name : list_lab_netns()) {
    auto r = env::run({"ip", "netns", "delete", name}, {}, std::chrono::seconds(20));
    if (!r || r->exit_code != 0)
      found.add(make_error(errc::internal,
                           "cannot delete network namespace " + name + (r ? ": " + r->err : "")));
  }
  // Deleting a namespace takes its veth pairs along; the bridge and any
  // stray host-side link go here. A link already gone is not a problem.
  for (const auto& link : list_lab_links()) {
    auto r = env::run({"ip", "link", "delete", link}, {}, std::chrono::seconds(20));
    if (r && r->exit_code != 0 && link_exists(link))
      found.add(make_error(errc::internal, "cannot delete link " + link + ": " + r->err));
  }
}

void remove_directory(const std::string& dir, problems& found) {
  // Unmount first: remove_all would otherwise delete inside whatever is mounted.
  for (const auto& point : mounts_under(dir))
    found.add(unmount(point));
  if (!mounts_under(dir).empty()) {
    found.add(make_error(errc::internal, dir + " is still mounted; not removing it"));
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec)
    found.add(make_error(errc::internal, "cannot remove " + dir + ": " + ec.message()));
}

}  // namespace

status lab_down() {
  auto root = check_root();
  if (!root)
    return root;
  problems found;
  // First: its sockets live in the nodes' namespaces and would keep them alive.
  found.add(stop_lab_switch());
  kill_everything(found);
  delete_netns_and_links(found);
  // Unmounting the nsfs files frees the nodes' mount namespaces (no process
  // is left in them), and with them every bind mount and tmpfs inside.
  remove_directory(run_dir, found);
  remove_directory(data_dir, found);
  if (!found.text.empty())
    return make_error(errc::internal, "lab down could not remove everything: " + found.text);
  return ok_status();
}

}  // namespace vcube::lab
