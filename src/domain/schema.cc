#include "domain/schema.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <set>

#include "domain/schema_checker.h"
#include "domain/types.h"

namespace vcube::domain {
namespace {

using detail::checker;
using detail::first_error;
using detail::is_plain_name;
using detail::validate_vm;
using detail::validate_vm_status;

constexpr std::array<std::string_view, 18> kinds = {
    "cluster",      "node",         "host",      "network",  "user",       "group",
    "vm",           "vm_status",    "ha_vm",     "ha_fence", "ha_manager", "ha_request",
    "fence_device", "fence_status", "fence_log", "alert",    "esan_disk",  "esan_status"};

// Kinds whose validators check their own field list (schema_ha.cc).
bool checks_own_fields(std::string_view kind) {
  return kind.rfind("ha_", 0) == 0 || kind.rfind("fence_", 0) == 0 || kind == "alert" ||
         kind.rfind("esan_", 0) == 0;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  });
}

bool is_host_or_ip(const std::string& s) {
  return is_ip_literal(s) || is_hostname(s);
}

bool is_email(const std::string& s) {
  auto at = s.find('@');
  return s.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < s.size() &&
         s.find_first_of(" \t\r\n<>") == std::string::npos;
}

// host, host:port, or [v6]:port
bool is_relay(const std::string& s) {
  if (is_host_or_ip(s))
    return true;
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size() || s.size() - colon > 6)
    return false;
  std::string port = s.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (std::stoul(port) == 0 || std::stoul(port) > 65535)
    return false;
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.find('.') == std::string::npos && is_ip_literal(host.substr(1, host.size() - 2));
  return is_hostname(host) || (is_ip_literal(host) && host.find(':') == std::string::npos);
}

bool is_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size() || s.size() - slash > 4)
    return false;
  std::string prefix = s.substr(slash + 1);
  if (!std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  std::string address = s.substr(0, slash);
  unsigned char buf[16];
  int bits = std::stoi(prefix);
  if (inet_pton(AF_INET, address.c_str(), buf) == 1)
    return bits <= 32;
  if (inet_pton(AF_INET6, address.c_str(), buf) == 1)
    return bits <= 128;
  return false;
}

bool is_role(const std::string& s) {
  return s == "admin" || s == "operator" || s == "viewer";
}

bool is_group_name(const std::string& s) {
  return is_plain_name(s);
}

status validate_cluster(const checker& c) {
  return first_error({
      c.required("name"),
      c.one_of(
          "name", [](const std::string& s) { return is_plain_name(s); },
          "1 to 63 characters of a-z 0-9 . _ - starting with a letter or digit"),
      c.one_of("admin_email", is_email, "an email address"),
      c.one_of("mail_relay", is_relay, "a host name or address, optionally with :port"),
      c.list(
          "dns_servers", [](const std::string& s) { return is_ip_literal(s); }, "IP addresses"),
      c.list("ntp_servers", is_host_or_ip, "host names or IP addresses"),
      // corosync's token timeout (corosync_conf.h bounds it the same way)
      c.integer("token_ms", 1000, 60000),
      c.integer("token_coefficient_ms", 0, 10000),
  });
}

status validate_node(const checker& c) {
  return first_error({
      c.required("id"),
      c.integer("id", 1, 65535),
      c.required("addresses"),
      c.list(
          "addresses", [](const std::string& s) { return is_ip_literal(s); }, "IP addresses", 1),
      c.required("mode"),
      c.one_of(
          "mode", [](const std::string& s) { return s == "online" || s == "standby"; },
          "\"online\" or \"standby\""),
      c.integer("memory_mib", 0, int64_t(1) << 40),
      c.integer("cpus", 0, 65536),
  });
}

status validate_host(const checker& c) {
  return first_error({
      c.required("address"),
      c.one_of("address", is_host_or_ip, "a host name or an IP address"),
      c.text("description"),
  });
}

status validate_network(const checker& c) {
  return first_error({
      c.required("vlan"),
      c.integer("vlan", 0, 4094),
      c.required("cidr"),
      c.one_of("cidr", is_cidr, "an IPv4 or IPv6 CIDR like 10.0.0.0/24"),
      c.integer("mtu", 576, 9216),
      c.text("description"),
  });
}

status validate_user(const checker& c) {
  return first_error({
      c.required("password_hash"),
      c.one_of(
          "password_hash",
          [](const std::string& s) { return s.rfind("$scrypt$", 0) == 0 && s.size() < 512; },
          "an scrypt hash starting with \"$scrypt$\""),
      c.list("roles", is_role, "admin, operator or viewer"),
      c.list("groups", is_group_name, "group names"),
      c.one_of("email", is_email, "an email address"),
      c.boolean("enabled"),
  });
}

status validate_group(const checker& c) {
  return first_error({
      c.list("roles", is_role, "admin, operator or viewer"),
      c.text("description"),
  });
}

// The initializer lists must stay in the call expressions: their arrays die at
// the end of the full expression.
status check_fields(std::string_view kind, const json& value) {
  if (kind == "cluster")
    return reject_unknown_fields(value,
                                 {"name", "admin_email", "mail_relay", "dns_servers", "ntp_servers",
                                  "token_ms", "token_coefficient_ms"},
                                 "");
  if (kind == "node")
    return reject_unknown_fields(value, {"id", "addresses", "mode", "memory_mib", "cpus"}, "");
  if (kind == "host")
    return reject_unknown_fields(value, {"address", "description"}, "");
  if (kind == "network")
    return reject_unknown_fields(value, {"vlan", "cidr", "mtu", "description"}, "");
  if (kind == "user")
    return reject_unknown_fields(value, {"password_hash", "roles", "groups", "email", "enabled"},
                                 "");
  if (kind == "vm")
    return reject_unknown_fields(value,
                                 {"vcpus", "memory_mib", "machine", "acceleration", "disks", "nics",
                                  "cdrom", "boot_order", "kernel", "node", "description", "ha"},
                                 "");
  if (kind == "vm_status")
    return reject_unknown_fields(
        value,
        {"node", "state", "reason", "since", "started_at", "not_responding", "accel", "ha_epoch"},
        "");
  if (checks_own_fields(kind))
    return ok_status();
  return reject_unknown_fields(value, {"roles", "description"}, "");
}

}  // namespace

bool is_known_kind(std::string_view kind) {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

bool is_runtime_kind(std::string_view kind) {
  return kind == "node" || kind == "vm_status" || kind == "fence_status" || kind == "fence_log" ||
         kind == "alert" || kind == "esan_status" || kind.rfind("ha_", 0) == 0;
}

bool is_ip_literal(std::string_view text) {
  if (text.empty() || text.size() > 45)
    return false;
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

status validate_name(std::string_view kind, std::string_view name) {
  if (!is_known_kind(kind))
    return make_error(errc::invalid_input,
                      "unknown kind '" + std::string(kind) +
                          "' (known: cluster, node, host, network, user, group, vm, vm_status, "
                          "ha_vm, ha_fence, ha_manager, ha_request, fence_device, fence_status, "
                          "fence_log, alert, esan_disk, esan_status)",
                      "kind");
  std::string prefix = std::string(kind) + " '" + std::string(name) + "': ";
  if (kind == "cluster" && name != "cluster")
    return make_error(errc::invalid_input, prefix + "the cluster object must be named 'cluster'",
                      "name");
  if (!is_plain_name(name, kind == "user"))
    return make_error(errc::invalid_input,
                      prefix + "a name is 1 to 63 characters of a-z 0-9 . _ -" +
                          (kind == "user" ? " @" : "") + " starting with a letter or digit",
                      "name");
  return ok_status();
}

status validate_object(std::string_view kind, std::string_view name, const json& value) {
  if (auto s = validate_name(kind, name); !s)
    return s;
  checker c(kind, name, value);
  if (!value.is_object())
    return c.fail("value", "the value must be a JSON object");
  if (auto s = check_fields(kind, value); !s)
    return c.fail(s.err().field, s.err().message);
  if (kind == "cluster")
    return validate_cluster(c);
  if (kind == "node")
    return validate_node(c);
  if (kind == "host")
    return validate_host(c);
  if (kind == "network")
    return validate_network(c);
  if (kind == "user")
    return validate_user(c);
  if (kind == "vm")
    return first_error({validate_vm(c), validate_vm_ha(c)});
  if (kind == "vm_status")
    return validate_vm_status(c);
  if (kind == "ha_vm")
    return validate_ha_vm(c);
  if (kind == "ha_fence")
    return validate_ha_fence(c);
  if (kind == "ha_manager")
    return validate_ha_manager(c);
  if (kind == "ha_request")
    return validate_ha_request(c);
  if (kind == "fence_device")
    return validate_fence_device(c);
  if (kind == "fence_status")
    return validate_fence_status(c);
  if (kind == "fence_log")
    return validate_fence_log(c);
  if (kind == "alert")
    return validate_alert(c);
  if (kind == "esan_disk")
    return validate_esan_disk(c);
  if (kind == "esan_status")
    return validate_esan_status(c);
  return validate_group(c);
}

}  // namespace vcube::domain
