#include "lab/names.h"

#include <charconv>

namespace vcube::lab {

std::string node_name(int k) {
  return "n" + std::to_string(k);
}

std::string netns_name(int k) {
  return netns_prefix + node_name(k);
}

std::string veth_name(int k) {
  return netns_name(k);
}

std::string mount_ns_file(int k) {
  return std::string(run_dir) + "/" + node_name(k) + ".mnt";
}

std::string node_data_dir(int k) {
  return std::string(data_dir) + "/" + node_name(k);
}

std::string node_log_file(int k) {
  return node_data_dir(k) + "/lab.log";
}

result<int> parse_node_argument(const std::string& text, int node_count) {
  std::string digits = text;
  if (!digits.empty() && digits[0] == 'n')
    digits.erase(0, 1);
  int k = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
  int last = node_count > 0 ? node_count : nodes_max;
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || k < 1 ||
      k > last) {
    return make_error(errc::invalid_input,
                      "'" + text + "' is not a lab node; use a number 1.." + std::to_string(last) +
                          " or a name n1..n" + std::to_string(last),
                      "node");
  }
  return k;
}

bool is_lab_name(const std::string& name) {
  return name.rfind(name_prefix, 0) == 0;
}

}  // namespace vcube::lab
