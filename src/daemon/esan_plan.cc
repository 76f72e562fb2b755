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

const json* find_volume(const json& volumes, const std::string& name) {
  if (!volumes.is_array())
    return nullptr;
  for (const auto& v : volumes)
    if (v.is_object() && v.value("name", "") == name)
      return &v;
  return nullptr;
}

int64_t done_of(const std::map<std::string, int64_t>& done, const std::string& disk) {
  auto it = done.find(disk);
  return it == done.end() ? 0 : it->second;
}

bool is_count(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_number_integer() && it->get<int64_t>() >= 0;
}

json without_counters(json v) {
  for (const char* field : {"at", "resynced_bytes", "out_of_sync_bytes"})
    v.erase(field);
  return v;
}

}  // namespace

std::string esan_data_path(const esan_paths& paths, const std::string& disk) {
  return paths.dir + "/" + disk + ".img";
}

std::string esan_meta_path(const esan_paths& paths, const std::string& disk) {
  return paths.dir + "/" + disk + ".meta";
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
    if (!v) {
      json attach = {
          {"op", "attach"}, {"name", w.name}, {"data", w.data}, {"meta", w.meta}, {"rate", w.rate}};
      attach[w.listen.empty() ? "peer" : "listen"] = w.listen.empty() ? w.peer : w.listen;
      out.push_back(std::move(attach));
      continue;
    }
    if (v->value("rate", uint64_t(0)) != w.rate)
      out.push_back({{"op", "rate"}, {"name", w.name}, {"bytes_per_second", w.rate}});
    if (v->value("size", uint64_t(0)) < w.size_bytes)
      out.push_back({{"op", "resize"}, {"name", w.name}, {"size", w.size_bytes}});
    if (v->value("role", "") == "primary" && v->value("nbd_clients", 0) == 0 &&
        !local.in_use.count(w.name))
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
