#include "lab/host_probe.h"

#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "env/files.h"
#include "lab/names.h"

namespace vcube::lab {
namespace fs = std::filesystem;

namespace {

constexpr long nsfs_magic = 0x6e736673;  // NSFS_MAGIC from linux/magic.h

std::vector<std::string> lab_entries(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string decode_octal_escapes(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      std::string digits = text.substr(i + 1, 3);
      if (digits.size() == 3 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>(std::stoi(digits, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace

std::vector<std::string> list_lab_netns() {
  return lab_entries("/run/netns", netns_prefix);
}

std::vector<std::string> list_lab_links() {
  return lab_entries("/sys/class/net", name_prefix);
}

bool link_exists(const std::string& name) {
  return env::file_exists("/sys/class/net/" + name);
}

bool is_link_up(const std::string& name) {
  auto flags = env::read_file("/sys/class/net/" + name + "/flags");
  if (!flags)
    return false;
  return (std::stoul(*flags, nullptr, 16) & IFF_UP) != 0;
}

std::vector<int> pids_in_namespace(const std::string& nsfs_path, const std::string& kind) {
  // Only a bound namespace counts: the placeholder file under it is not one.
  struct statfs where {};
  struct stat ns {};
  if (statfs(nsfs_path.c_str(), &where) != 0 || where.f_type != nsfs_magic ||
      stat(nsfs_path.c_str(), &ns) != 0)
    return {};
  std::string wanted = kind + ":[" + std::to_string(ns.st_ino) + "]";
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    char link[64] = {};
    std::string path = "/proc/" + name + "/ns/" + kind;
    ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
    if (n > 0 && wanted == std::string(link, static_cast<size_t>(n)))
      pids.push_back(std::stoi(name));
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::string process_name(int pid) {
  auto comm = env::read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!comm)
    return "?";
  std::string name = *comm;
  while (!name.empty() && name.back() == '\n')
    name.pop_back();
  return name;
}

status kill_namespace_processes(const std::vector<std::string>& nsfs_paths,
                                std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    std::vector<int> left;
    for (const auto& path : nsfs_paths) {
      auto kind = path.rfind(".mnt") == path.size() - 4 ? "mnt" : "net";
      for (int pid : pids_in_namespace(path, kind))
        left.push_back(pid);
    }
    // Never ourselves: `lab kill` may run inside a node (unusual, but possible).
    std::erase(left, static_cast<int>(getpid()));
    if (left.empty())
      return ok_status();
    if (std::chrono::steady_clock::now() > until) {
      std::string list;
      for (int pid : left)
        list += " " + std::to_string(pid) + " (" + process_name(pid) + ")";
      return make_error(errc::timeout, "processes survived SIGKILL:" + list);
    }
    for (int pid : left)
      kill(pid, SIGKILL);
    // A killed process leaves its namespaces only once it has exited; poll briefly.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::vector<std::string> parse_mount_points(const std::string& mountinfo) {
  std::vector<std::string> out;
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // Fields: id parent major:minor root mount_point ...
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (fields >> id >> parent >> device >> root >> mount_point)
      out.push_back(decode_octal_escapes(mount_point));
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& dir) {
  auto text = env::read_file("/proc/self/mountinfo");
  if (!text)
    return {};
  std::vector<std::string> out;
  for (auto& point : parse_mount_points(*text)) {
    if (point == dir || point.rfind(dir + "/", 0) == 0)
      out.push_back(point);
  }
  // Deepest (longest) first; a path mounted several times appears several times.
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

bool is_mount_point(const std::string& path) {
  auto points = mounts_under(path);
  return std::find(points.begin(), points.end(), path) != points.end();
}

status unmount(const std::string& path) {
  if (umount2(path.c_str(), 0) == 0 || errno == EINVAL || errno == ENOENT)
    return ok_status();
  if (umount2(path.c_str(), MNT_DETACH) == 0)
    return ok_status();
  return make_error(errc::internal, "cannot unmount " + path + ": " + strerror(errno));
}

}  // namespace vcube::lab
