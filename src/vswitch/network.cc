#include "vswitch/network.h"

namespace vcube::vswitch {
namespace {

// Out-of-int values become -1, which check_network refuses.
int small_int(const json& value) {
  auto wide = value.get<int64_t>();
  return wide < 0 || wide > 1000000 ? -1 : static_cast<int>(wide);
}

}  // namespace

status check_network(const network& net) {
  if (net.name.empty())
    return make_error(errc::invalid_input, "a network needs a name", "name");
  if (net.vlan < 0 || net.vlan > vlan_max)
    return make_error(errc::invalid_input,
                      "network '" + net.name + "': vlan must be between 0 and " +
                          std::to_string(vlan_max) + " (got " + std::to_string(net.vlan) + ")",
                      "vlan");
  if (net.mtu < mtu_min || net.mtu > mtu_max)
    return make_error(errc::invalid_input,
                      "network '" + net.name + "': mtu must be between " + std::to_string(mtu_min) +
                          " and " + std::to_string(mtu_max) + " (got " + std::to_string(net.mtu) +
                          ")",
                      "mtu");
  return ok_status();
}

result<network> network_from_domain(const std::string& name, const json& value) {
  network net;
  net.name = name;
  if (!value.is_object() || !value.contains("vlan") || !value["vlan"].is_number_integer())
    return make_error(errc::invalid_input, "network '" + name + "': vlan must be an integer",
                      "vlan");
  net.vlan = small_int(value["vlan"]);
  if (value.contains("mtu")) {
    if (!value["mtu"].is_number_integer())
      return make_error(errc::invalid_input, "network '" + name + "': mtu must be an integer",
                        "mtu");
    net.mtu = small_int(value["mtu"]);
  }
  if (auto s = check_network(net); !s)
    return s.err();
  return net;
}

}  // namespace vcube::vswitch
