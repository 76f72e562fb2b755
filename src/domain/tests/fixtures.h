// Valid objects of every kind and request builders shared by the domain tests.
#pragma once

#include <string>

#include "domain/types.h"

namespace vcube::domain::test {

inline json cluster_value() {
  return {{"name", "lab"},
          {"admin_email", "ops@example.com"},
          {"mail_relay", "smtp.example.com:25"},
          {"dns_servers", {"10.0.0.53", "2001:db8::53"}},
          {"ntp_servers", {"pool.ntp.org", "10.0.0.123"}}};
}
inline json node_value(int id, const std::string& address) {
  return {{"id", id}, {"addresses", {address}}, {"mode", "online"}};
}
inline json network_value(int vlan = 10, int mtu = 1500) {
  return {{"vlan", vlan}, {"cidr", "10.1.0.0/24"}, {"mtu", mtu}, {"description", "lan"}};
}
inline json user_value(json roles = {"admin"}, json groups = json::array()) {
  return {{"password_hash", "$scrypt$n=16384$abc$def"},
          {"roles", std::move(roles)},
          {"groups", std::move(groups)},
          {"email", "a@example.com"},
          {"enabled", true}};
}
inline json group_value(json roles = {"operator"}) {
  return {{"roles", std::move(roles)}, {"description", "ops"}};
}
inline json vm_value(const std::string& node = "n1", const std::string& mac = "52:54:00:00:00:01") {
  return {{"vcpus", 1},
          {"memory_mib", 256},
          {"machine", "q35"},
          {"acceleration", "auto"},
          {"disks", {{{"image", "vm1/disk0.raw"}, {"format", "raw"}, {"size_mib", 64}}}},
          {"nics", {{{"network", "lan"}, {"mac", mac}}}},
          {"cdrom", ""},
          {"boot_order", {"disk", "cdrom"}},
          {"kernel", {{"kernel", "vmlinux"}, {"initrd", "initrd.img"}, {"cmdline", "quiet"}}},
          {"node", node},
          {"description", "test"}};
}
inline json vm_status_value(const std::string& node, const std::string& state) {
  return {{"node", node}, {"state", state}, {"reason", "host request"}, {"since", 1}};
}

inline change put(std::string kind, std::string name, json value,
                  std::optional<uint64_t> base = std::nullopt) {
  return change{change::op_type::put, std::move(kind), std::move(name), std::move(value), base};
}
inline change remove(std::string kind, std::string name,
                     std::optional<uint64_t> base = std::nullopt) {
  return change{change::op_type::remove, std::move(kind), std::move(name), json(), base};
}
inline write_request apply_request(std::vector<change> changes) {
  return write_request{write_request::type::apply, std::move(changes)};
}
inline write_request request_of(write_request::type t, std::vector<change> changes = {}) {
  return write_request{t, std::move(changes)};
}

}  // namespace vcube::domain::test
