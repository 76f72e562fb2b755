#include "env/node_config.h"

#include <fstream>
#include <sstream>

#include "env/files.h"

namespace vcube {
namespace {

bool is_interface_name(const std::string& name) {
  return !name.empty() && name.size() <= 15 && name != "." && name != ".." &&
         name.find_first_of("/: \t\n\r\v\f") == std::string::npos;
}

}  // namespace

result<node_config> parse_node_config(const json& j) {
  if (auto s = reject_unknown_fields(j, {"node_id", "name", "address", "cluster", "vm_uplink"},
                                     "node.json");
      !s) {
    return s.err();
  }
  node_config c;
  try {
    c.node_id = j.at("node_id").get<uint32_t>();
    c.name = j.at("name").get<std::string>();
    c.address = j.at("address").get<std::string>();
    c.cluster = j.at("cluster").get<std::string>();
    if (j.contains("vm_uplink"))
      c.vm_uplink = j.at("vm_uplink").get<std::string>();
  } catch (const json::exception& e) {
    return make_error(errc::invalid_input, std::string("node.json: ") + e.what());
  }
  if (c.node_id == 0 || c.name.empty() || c.address.empty()) {
    return make_error(errc::invalid_input, "node.json: node_id, name and address must be set");
  }
  if (j.contains("vm_uplink") && !is_interface_name(c.vm_uplink)) {
    return make_error(errc::invalid_input,
                      "node.json: vm_uplink '" + c.vm_uplink +
                          "' is not an interface name (1..15 bytes, no '/', ':' or spaces)",
                      "vm_uplink");
  }
  return c;
}

json to_json(const node_config& c) {
  json j{{"node_id", c.node_id}, {"name", c.name}, {"address", c.address}, {"cluster", c.cluster}};
  if (!c.vm_uplink.empty())
    j["vm_uplink"] = c.vm_uplink;
  return j;
}

result<node_config> read_node_config(const std::string& path) {
  auto text = env::read_file(path);
  if (!text) {
    return make_error(text.err().code,
                      "this node is not part of a cluster (" + text.err().message +
                          "); run `vcube cluster create` or `vcube cluster join` first");
  }
  auto j = parse_json(*text);
  if (!j)
    return make_error(errc::invalid_input, path + ": " + j.err().message);
  return parse_node_config(*j);
}

status write_node_config(const std::string& path, const node_config& config) {
  return env::write_file_atomic(path, to_json(config).dump(2) + "\n", 0644);
}

}  // namespace vcube
