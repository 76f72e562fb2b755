// Test helpers: links written by hand, and a small model of what the kernel
// does with the planners' ip commands, to check that a plan, once applied,
// plans nothing more.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>

#include "vswitch/command.h"
#include "vswitch/links.h"

namespace vcube::vswitch::testing {

inline link_map links_of(std::initializer_list<link> links) {
  link_map out;
  for (const auto& l : links)
    out[l.name] = l;
  return out;
}

// A link of `kind`, down, MTU 1500, no master.
inline link make_link(const std::string& name, const std::string& kind) {
  link l;
  l.name = name;
  l.kind = kind;
  l.mtu = 1500;
  return l;
}

// A physical NIC (the usual vm uplink before vcube touches it).
inline link nic(const std::string& name) {
  return make_link(name, "");
}

// A tap, up, on `bridge`.
inline link tap_on(const std::string& name, const std::string& bridge, int mtu) {
  link l = make_link(name, "tun");
  l.is_tap = true;
  l.is_up = true;
  l.master = bridge;
  l.mtu = mtu;
  return l;
}

// The value after `key` in argv ("mtu" -> "9000"), or ""; argv[1] ("link",
// "tuntap") is the object, not a key.
inline std::string arg_after(const command& argv, const std::string& key) {
  for (std::size_t i = 2; i + 1 < argv.size(); ++i) {
    if (argv[i] == key)
      return argv[i + 1];
  }
  return "";
}

inline void apply_set(link_map& links, const command& argv) {
  link& l = links.at(arg_after(argv, "dev"));
  if (auto mtu = arg_after(argv, "mtu"); !mtu.empty())
    l.mtu = std::stoi(mtu);
  if (auto master = arg_after(argv, "master"); !master.empty())
    l.master = master;
  if (auto alias = arg_after(argv, "alias"); !alias.empty())
    l.alias = alias;
  if (argv.back() == "nomaster")
    l.master.clear();
  if (argv.back() == "up")
    l.is_up = true;
  if (arg_after(argv, "nf_call_iptables") == "0")
    l.calls_iptables = false;
}

inline void apply_add(link_map& links, const command& argv) {
  link l = make_link(arg_after(argv, "name"), arg_after(argv, "type"));
  if (l.kind == "vlan") {
    l.parent = arg_after(argv, "link");
    l.vlan_id = std::stoi(arg_after(argv, "id"));
    ASSERT_TRUE(links.count(l.parent));
  }
  if (auto mtu = arg_after(argv, "mtu"); !mtu.empty())
    l.mtu = std::stoi(mtu);
  links[l.name] = l;
}

// Applies each command as the kernel would (for the subset the planners use).
inline void apply_commands(link_map& links, const std::vector<command>& commands) {
  for (const auto& argv : commands) {
    ASSERT_GE(argv.size(), 4u) << format_command(argv);
    if (argv[1] == "tuntap") {
      std::string name = arg_after(argv, "dev");
      links[name] = make_link(name, "tun");
      links[name].is_tap = true;
    } else if (argv[2] == "add") {
      apply_add(links, argv);
    } else if (argv[2] == "delete") {
      std::string name = arg_after(argv, "dev");
      ASSERT_TRUE(links.erase(name)) << format_command(argv);
      for (auto& [_, l] : links) {
        if (l.master == name)
          l.master.clear();
      }
    } else {
      ASSERT_EQ(argv[2], "set") << format_command(argv);
      ASSERT_TRUE(links.count(arg_after(argv, "dev"))) << format_command(argv);
      apply_set(links, argv);
    }
  }
}

}  // namespace vcube::vswitch::testing
