#include "cluster/cmap_nodelist.h"

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

namespace vcube::cluster {
namespace {

constexpr const char* prefix = "nodelist.node.";

error cmap_error(const std::string& what, cs_error_t rc) {
  return make_error(errc::unavailable, what + ": " + cs_strerror(rc));
}

// "nodelist.node.12.name" -> "12"; "" when the key is not of that shape.
std::string index_of(const char* key) {
  size_t n = strlen(prefix);
  if (strncmp(key, prefix, n) != 0)
    return {};
  const char* dot = strchr(key + n, '.');
  return dot ? std::string(key + n, dot) : std::string();
}

result<std::set<std::string>> read_indexes(cmap_handle_t handle) {
  cmap_iter_handle_t iter = 0;
  cs_error_t rc = cmap_iter_init(handle, prefix, &iter);
  if (rc != CS_OK)
    return cmap_error("cmap_iter_init", rc);
  std::set<std::string> indexes;
  char key[CMAP_KEYNAME_MAXLEN + 1];
  size_t value_len = 0;
  cmap_value_types_t type{};
  size_t keys = 0;
  while ((rc = cmap_iter_next(handle, iter, key, &value_len, &type)) == CS_OK &&
         keys++ < cmap_nodelist_keys_max) {
    if (auto index = index_of(key); !index.empty())
      indexes.insert(index);
  }
  cmap_iter_finalize(handle, iter);
  if (rc != CS_OK && rc != CS_ERR_NO_SECTIONS)
    return cmap_error("cmap_iter_next", rc);
  return indexes;
}

std::string get_string(cmap_handle_t handle, const std::string& key) {
  char* value = nullptr;
  if (cmap_get_string(handle, key.c_str(), &value) != CS_OK || value == nullptr)
    return {};
  std::string out(value);
  free(value);
  return out;
}

}  // namespace

result<std::map<uint32_t, member>> read_cmap_nodelist(cmap_handle_t handle) {
  auto indexes = read_indexes(handle);
  if (!indexes)
    return indexes.err();
  std::map<uint32_t, member> nodes;
  for (const auto& index : *indexes) {
    std::string base = prefix + index + ".";
    uint32_t node_id = 0;
    if (cmap_get_uint32(handle, (base + "nodeid").c_str(), &node_id) != CS_OK)
      continue;  // corosync allows a nodelist entry without nodeid; CPG never reports it
    nodes[node_id] =
        member{node_id, get_string(handle, base + "name"), get_string(handle, base + "ring0_addr")};
  }
  return nodes;
}

}  // namespace vcube::cluster
