#include "daemon/esan_plan.h"

#include <cstdlib>

namespace vcube::daemon {
namespace {

constexpr int64_t counters_refresh_s = 30;
constexpr size_t message_chars_max = 1000;  // the domain keeps 1024

std::string first_address(const domain::store& store, const std::string& node) {
  auto o = store.get("node", node);
  if (!o)
    return "";
  auto addresses = o->value.value("addresses", json::array());
  return addresses.empty() ? "" : addresses[0].get<std::string>();
}

int64_t done_of(const std::map<std::string, int64_t>& done, const std::string& disk) {
  auto it = done.find(disk);
  return it == done.end() ? 0 : it->second;
}

bool is_count(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_number_integer() && it->get<int64_t>() >= 0;
}

// A copy a VM may be served from (by its node's status; see also is_copy_outdated).
bool is_usable(const json& status) {
  std::string state = status.value("disk_state", "");
  return !state.empty() && state != "Inconsistent" && state != "SyncTarget" &&
         state != "SplitBrain";
}

bool is_fenced(const domain::store& store, const std::string& node) {
  auto fence = store.get("ha_fence", node);
  return fence && fence->value.value("state", "") == "confirmed";
}

// Whether a VM on a node without a copy of `disk` uses it.
bool is_used_diskless(const domain::store& store, const domain::object& disk) {
  for (const auto& vm : store.list("vm")) {
    std::string node = vm.value.value("node", "");
    if (node.empty() || is_disk_node(disk.value, node))
      continue;
    for (const auto& d : vm.value.value("disks", json::array()))
      if (d.is_object() && d.value("esan", "") == disk.name)
        return true;
  }
  return false;
}

json without_counters(json v) {
  for (const char* field : {"at", "resynced_bytes", "out_of_sync_bytes"})
    v.erase(field);
  return v;
}

}  // namespace

const json* find_volume(const json& volumes, const std::string& name) {
  if (!volumes.is_array())
    return nullptr;
  for (const auto& v : volumes)
    if (v.is_object() && v.value("name", "") == name)
      return &v;
  return nullptr;
}

std::string esan_data_path(const esan_paths& paths, const std::string& disk) {
  return paths.dir + "/" + disk + ".img";
}

std::string esan_meta_path(const esan_paths& paths, const std::string& disk) {
  return paths.dir + "/" + disk + ".meta";
}

std::string esan_nbd_listen(const domain::store& store, const std::string& node) {
  std::string address = first_address(store, node);
  return address.empty() ? "" : address + ":" + std::to_string(esan_nbd_port);
}

bool is_disk_node(const json& disk, const std::string& node) {
  for (const auto& n : disk.value("nodes", json::array()))
    if (n.is_string() && n.get<std::string>() == node)
      return true;
  return false;
}

bool is_copy_outdated(const json& disk, const std::string& node) {
  return disk.value("outdated", "") == node;
}

bool may_rely_on_outdated_peer(const domain::store& store, const std::string& disk,
                               const std::string& node, const std::set<std::string>& members) {
  auto d = store.get("esan_disk", disk);
  if (!d || !is_disk_node(d->value, node))
    return false;
  for (const auto& n : d->value.value("nodes", json::array())) {
    std::string peer = n.get<std::string>();
    if (peer == node)
      continue;
    return is_copy_outdated(d->value, peer) &&
           (store.list("node").size() >= 3 || members.count(peer) || is_fenced(store, peer));
  }
  return false;
}

json esan_outdated_update(const json& disk, const std::string& node, const json& volume,
                          int64_t now_ms) {
  if (!volume.is_object() || !is_disk_node(disk, node))
    return nullptr;
  std::string marked = disk.value("outdated", "");
  json out = disk;
  if (volume.value("suspended", false) && marked != node) {
    for (const auto& n : disk.value("nodes", json::array()))
      if (n.get<std::string>() != node)
        out["outdated"] = n;
    out["outdated_at"] = now_ms;
    return out;
  }
  if (marked == node && volume.value("connected", false) &&
      volume.value("disk_state", "") == "UpToDate") {
    out.erase("outdated");
    out.erase("outdated_at");
    return out;
  }
  return nullptr;
}

std::string esan_status_name(const std::string& disk, const std::string& node) {
  return disk + "." + node;
}

std::vector<esan_volume> wanted_volumes(const domain::store& store, const std::string& node,
                                        const esan_paths& paths) {
  std::vector<esan_volume> out;
  for (const auto& d : store.list("esan_disk")) {
    auto nodes = d.value.value("nodes", json::array());
    if (nodes.size() != 2 || (nodes[0] != node && nodes[1] != node))
      continue;
    bool is_first = nodes[0] == node;
    esan_volume v;
    v.name = d.name;
    v.data = esan_data_path(paths, d.name);
    v.meta = esan_meta_path(paths, d.name);
    v.size_bytes = uint64_t(d.value.value("size_mib", int64_t(0))) << 20;
    v.generation = std::strtoull(d.value.value("generation", "0").c_str(), nullptr, 16);
    if (auto import = d.value.value("import", json::object()); import.contains("image")) {
      if (is_first) {
        v.import_image = paths.images_dir + "/" + import.value("image", "");
        v.import_format = import.value("format", "raw");
      } else {
        v.generation = 0;  // inconsistent until the first node's data arrived
      }
    }
    std::string port = std::to_string(d.value.value("port", 0));
    std::string first = nodes[0].get<std::string>();
    if (is_first)
      v.listen = first_address(store, node) + ":" + port;
    else
      v.peer = first_address(store, first) + ":" + port;
    v.rate = uint64_t(d.value.value("rate_mib", int64_t(0))) << 20;
    if (is_first)
      v.verify_request = d.value.value("verify_request", int64_t(0));
    auto resolve = d.value.value("resolve", json::object());
    if (resolve.value("discard", "") == node)
      v.resolve_at = resolve.value("at", int64_t(0));
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<esan_remote> wanted_remotes(const domain::store& store, const std::string& node,
                                        const std::set<std::string>& in_use) {
  std::vector<esan_remote> out;
  for (const auto& name : in_use) {
    auto d = store.get("esan_disk", name);
    if (!d)
      continue;
    if (is_disk_node(d->value, node))
      continue;  // a copy here: served locally
    esan_remote r{name, uint64_t(d->value.value("size_mib", int64_t(0))) << 20, {}};
    for (const auto& n : d->value.value("nodes", json::array()))
      if (auto server = esan_nbd_listen(store, n.get<std::string>()); !server.empty())
        r.servers.push_back(std::move(server));
    if (!r.servers.empty())
      out.push_back(std::move(r));
  }
  return out;
}

std::string esan_serving_node(const domain::store& store, const std::string& disk,
                              const std::set<std::string>& members) {
  auto d = store.get("esan_disk", disk);
  if (!d || !is_used_diskless(store, *d))
    return "";
  std::vector<std::string> nodes;
  for (const auto& n : d->value.value("nodes", json::array()))
    nodes.push_back(n.get<std::string>());
  if (nodes.size() != 2)
    return "";
  std::vector<json> status;
  for (const auto& n : nodes) {
    auto o = store.get("esan_status", esan_status_name(disk, n));
    status.push_back(o ? o->value : json::object());
  }
  auto is_primary = [&](size_t i) {
    return members.count(nodes[i]) && status[i].value("role", "") == "primary";
  };
  auto is_up_to_date = [&](size_t i) {
    return is_usable(status[i]) && !is_copy_outdated(d->value, nodes[i]);
  };
  for (size_t i = 0; i < 2; ++i)
    if (is_primary(i) && status[i].value("nbd_clients", 0) > 0)
      return nodes[i];
  for (size_t i = 0; i < 2; ++i)
    if (is_primary(i) && is_up_to_date(i))
      return nodes[i];
  for (size_t i = 0; i < 2; ++i) {
    if (!members.count(nodes[i]) || !is_up_to_date(i))
      continue;
    const std::string& other = nodes[1 - i];
    return members.count(other) || is_fenced(store, other) ? nodes[i] : "";
  }
  return "";
}

std::vector<json> esan_remote_requests(const std::vector<esan_remote>& wanted,
                                       const json& remotes) {
  std::vector<json> out;
  std::set<std::string> names;
  for (const auto& w : wanted) {
    names.insert(w.name);
    json request = {
        {"op", "attach_remote"}, {"name", w.name}, {"size", w.size_bytes}, {"servers", w.servers}};
    const json* have = find_volume(remotes, w.name);
    if (have && have->value("size", uint64_t(0)) == w.size_bytes &&
        have->value("servers", json::array()) == request["servers"])
      continue;
    // Grown, or a node's address changed: attached again once no QEMU holds
    // it (a running guest keeps its size until its next start anyway).
    if (have && have->value("nbd_clients", 0) > 0)
      continue;
    if (have)
      out.push_back({{"op", "detach"}, {"name", w.name}});
    out.push_back(std::move(request));
  }
  if (remotes.is_array())
    for (const auto& r : remotes)
      if (!names.count(r.value("name", "")))
        out.push_back({{"op", "detach"}, {"name", r.value("name", "")}});
  return out;
}

std::vector<json> esan_requests(const std::vector<esan_volume>& wanted, const json& volumes,
                                const esan_local& local, const esan_paths& paths) {
  std::vector<json> out;
  std::set<std::string> wanted_names;
  for (const auto& w : wanted) {
    wanted_names.insert(w.name);
    if (!local.created.count(w.name))
      out.push_back({{"op", "create"},
                     {"name", w.name},
                     {"data", w.data},
                     {"meta", w.meta},
                     {"size", w.size_bytes},
                     {"generation", w.generation},
                     {"primary", false}});
    const json* v = find_volume(volumes, w.name);
    json attach = {{"op", "attach"}, {"name", w.name}, {"data", w.data},
                   {"meta", w.meta}, {"rate", w.rate}, {"fencing", true}};
    attach[w.listen.empty() ? "peer" : "listen"] = w.listen.empty() ? w.peer : w.listen;
    if (!v) {
      out.push_back(std::move(attach));
      continue;
    }
    if (!v->value("fencing", false))
      out.push_back(attach);  // attached before fencing existed: turned on in place
    if (v->value("rate", uint64_t(0)) != w.rate)
      out.push_back({{"op", "rate"}, {"name", w.name}, {"bytes_per_second", w.rate}});
    if (v->value("size", uint64_t(0)) < w.size_bytes)
      out.push_back({{"op", "resize"}, {"name", w.name}, {"size", w.size_bytes}});
    const bool is_needed = local.in_use.count(w.name) || local.serving.count(w.name);
    if (v->value("role", "") == "secondary" && local.serving.count(w.name))
      out.push_back({{"op", "promote"}, {"name", w.name}});
    if (v->value("role", "") == "primary" && v->value("nbd_clients", 0) == 0 && !is_needed)
      out.push_back({{"op", "demote"}, {"name", w.name}});
    if (w.verify_request > done_of(local.verify_done, w.name) && v->value("connected", false))
      out.push_back({{"op", "verify"}, {"name", w.name}});
    if (w.resolve_at > done_of(local.resolve_done, w.name) &&
        v->value("disk_state", "") == "SplitBrain" && !v->value("connected", false))
      out.push_back({{"op", "resolve"}, {"name", w.name}, {"discard", true}});
  }
  std::set<std::string> gone;
  if (volumes.is_array())
    for (const auto& v : volumes) {
      std::string name = v.value("name", "");
      if (!name.empty() && !wanted_names.count(name)) {
        out.push_back({{"op", "detach"}, {"name", name}});
        gone.insert(name);
      }
    }
  for (const auto& name : local.created)
    if (!wanted_names.count(name))
      gone.insert(name);
  for (const auto& name : gone)
    out.push_back({{"op", "delete"},
                   {"name", name},
                   {"data", esan_data_path(paths, name)},
                   {"meta", esan_meta_path(paths, name)}});
  return out;
}

json esan_status_value(const std::string& disk, const std::string& node, const json& volume,
                       int64_t verify_done, int64_t resolve_done, int64_t now_s) {
  json out = {{"disk", disk},
              {"node", node},
              {"attached", volume.is_object()},
              {"verify_done", verify_done},
              {"resolve_done", resolve_done},
              {"at", now_s}};
  if (!volume.is_object()) {
    out["disk_state"] = "Detached";
    out["connected"] = false;
    return out;
  }
  for (const char* field : {"role", "peer_role", "disk_state", "peer_disk_state", "message"})
    if (volume.contains(field) && volume[field].is_string())
      out[field] = volume[field].get<std::string>().substr(0, message_chars_max);
  out["connected"] = volume.value("connected", false);
  out["suspended"] = volume.value("suspended", false);
  for (const char* field : {"percent", "out_of_sync_bytes", "resynced_bytes", "nbd_clients"})
    if (is_count(volume, field))
      out[field] = volume[field];
  if (is_count(volume, "size"))
    out["size_bytes"] = volume["size"];
  if (volume.contains("verify") && volume["verify"].is_object()) {
    json verify = json::object();
    for (const char* field :
         {"state", "percent", "differing_regions", "differing_bytes", "first_differences"})
      if (volume["verify"].contains(field))
        verify[field] = volume["verify"][field];
    out["verify"] = std::move(verify);
  }
  return out;
}

json esan_alert(const json& old, const json& now, int64_t now_ms) {
  bool was_split = old.is_object() && old.value("disk_state", "") == "SplitBrain";
  if (was_split || now.value("disk_state", "") != "SplitBrain")
    return nullptr;
  std::string disk = now.value("disk", ""), node = now.value("node", "");
  return {{"severity", "critical"},
          {"subject", "eSAN split brain: disk " + disk + " on " + node},
          {"text", "Both copies of disk " + disk +
                       " were written while apart; nothing is merged and the disk stays "
                       "disconnected. Choose the node whose changes to discard: vcube disk "
                       "resolve-split-brain " +
                       disk + " --discard NODE. (" + now.value("message", "") + ")"},
          {"at", now_ms}};
}

bool esan_status_worth_writing(const json& old, const json& now) {
  if (without_counters(old) != without_counters(now))
    return true;
  bool counters_moved =
      old.value("resynced_bytes", json()) != now.value("resynced_bytes", json()) ||
      old.value("out_of_sync_bytes", json()) != now.value("out_of_sync_bytes", json());
  return counters_moved &&
         now.value("at", int64_t(0)) - old.value("at", int64_t(0)) >= counters_refresh_s;
}

}  // namespace vcube::daemon
