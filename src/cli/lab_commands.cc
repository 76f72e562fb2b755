#include "cli/lab_commands.h"

#include <iostream>

#include "cli/session.h"
#include "lab/lab.h"
#include "lab/lab_switch.h"

namespace vcube::cli {
namespace {

// "2" or "n2", checked against the running lab's size.
result<int> node_number(const std::string& text) {
  auto state = lab::read_lab_state();
  if (!state)
    return make_error(errc::not_found, "no lab is running (`vcube lab up` starts one)");
  return lab::parse_node_argument(text, state->nodes);
}

int report(const status& s) {
  return s ? 0 : fail(s.err());
}

template <class Action>
int on_node(const std::string& text, Action action) {
  auto k = node_number(text);
  if (!k)
    return fail(k.err());
  return report(action(*k));
}

}  // namespace

void add_lab_commands(CLI::App& app, int& code) {
  auto* lab = app.add_subcommand("lab", "a whole cluster on this machine (needs root)")
                  ->require_subcommand(1);
  static lab::lab_options options;
  static std::string node;
  static std::vector<std::string> command;
  auto* up = lab->add_subcommand("up", "create the lab and form the cluster");
  up->add_option("--nodes", options.nodes, "number of nodes")->check(CLI::Range(2, 9));
  up->add_option("--subnet", options.subnet, "private IPv4 /24 for the lab");
  up->callback([&code] { code = report(lab::lab_up(options)); });
  lab->add_subcommand("down", "remove everything of the lab")->callback([&code] {
    code = report(lab::lab_down());
  });
  lab->add_subcommand("status", "nodes, processes, links")->callback([&code] {
    code = report(lab::lab_status(std::cout));
  });
  struct node_action {
    const char* name;
    const char* help;
    status (*run)(int);
  };
  static const node_action actions[] = {
      {"kill", "SIGKILL every process of a node", &lab::lab_kill},
      {"start", "boot a killed node again", &lab::lab_start},
      {"partition", "cut a node's links", &lab::lab_partition},
  };
  for (const auto& a : actions) {
    auto* sub = lab->add_subcommand(a.name, a.help);
    sub->add_option("node", node, "node number or name (2 or n2)")->required();
    sub->callback([&code, run = a.run] { code = on_node(node, run); });
  }
  auto* heal = lab->add_subcommand("heal", "restore the links of a node (default: all)");
  heal->add_option("node", node);
  heal->callback([&code] {
    if (node.empty()) {
      code = report(lab::lab_heal(std::nullopt));
      return;
    }
    code = on_node(node, [](int k) { return lab::lab_heal(k); });
  });
  // Internal (hidden: empty group): `lab up` starts it, `lab down` stops it.
  lab->add_subcommand("switch", "run the lab's power switch in the foreground")
      ->group("")
      ->callback([&code] { code = report(lab::run_lab_switch()); });
  auto* exec = lab->add_subcommand("exec", "run a command inside a node: exec NODE -- CMD...");
  exec->add_option("node", node)->required();
  exec->add_option("command", command)->required();
  exec->callback([&code] {
    auto k = node_number(node);
    code = k ? lab::lab_exec(*k, command) : fail(k.err());
  });
}

}  // namespace vcube::cli
