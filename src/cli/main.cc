// vcube: the command line of a vcube cluster (docs/api.md), plus the
// set-up commands that run on a node and the local lab.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cluster_setup.h"
#include "cli/commands.h"
#include "cli/disk_commands.h"
#include "cli/ha_commands.h"
#include "cli/lab_commands.h"
#include "cli/vm_commands.h"

namespace {

using namespace vcube;
using namespace vcube::cli;

int report(const status& s, const std::string& done) {
  if (!s)
    return fail(s.err());
  if (!done.empty())
    std::cout << done << '\n';
  return 0;
}

void add_cluster_commands(CLI::App& app, global_options& g, int& code) {
  auto* cluster = app.add_subcommand("cluster", "create, join, status")->require_subcommand(1);
  static create_options create;
  static std::string password_file;
  auto* c = cluster->add_subcommand("create", "create a new cluster with this node as its first");
  c->add_option("name", create.cluster, "cluster name")->required();
  c->add_option("--address", create.address, "this node's interconnect address")->required();
  c->add_option("--name", create.name, "this node's name (default: host name)");
  c->add_option("--password-file", password_file, "file holding the new admin password");
  c->add_option("--token-ms", create.token_ms,
                "corosync token timeout in ms: how soon a dead node is noticed (default 3000)")
      ->check(CLI::Range(1000, 60000));
  c->add_option("--token-coefficient-ms", create.token_coefficient_ms,
                "added to the token timeout per node beyond two (default 650; 0: the token "
                "timeout is exact)")
      ->check(CLI::Range(0, 10000));
  c->callback([&code] {
    if (create.name.empty())
      create.name = default_node_name();
    auto p = read_password(password_file, true);
    if (!p) {
      code = fail(p.err());
      return;
    }
    create.password = *p;
    code = report(create_cluster(create), "cluster " + create.cluster + " created; node " +
                                              create.name + " serves https://" + create.address +
                                              ":8001");
  });
  static join_options join;
  auto* j = cluster->add_subcommand("join", "join this node to an existing cluster");
  j->add_option("member", join.member, "address of any cluster member")->required();
  j->add_option("--address", join.address, "this node's interconnect address")->required();
  j->add_option("--name", join.name, "this node's name (default: host name)");
  j->add_option("--password-file", password_file, "file holding the cluster admin password");
  j->add_option("--fingerprint", join.fingerprint, "expected SHA-256 fingerprint of the member");
  j->callback([&code] {
    if (join.name.empty())
      join.name = default_node_name();
    auto p = read_password(password_file, false);
    if (!p) {
      code = fail(p.err());
      return;
    }
    join.password = *p;
    code = report(join_cluster(join), "joined; node " + join.name +
                                          " is in standby until `vcube node set-online " +
                                          join.name + "`");
  });
  cluster->add_subcommand("status", "members, quorum, domain version")->callback([&g, &code] {
    session s(g);
    code = cluster_status(s);
  });
  auto* service =
      app.add_subcommand("service", "this node's corosync and vcubed")->require_subcommand(1);
  service->add_subcommand("start", "start them unless running")->callback([&code] {
    code = report(start_services(), "services running");
  });
  service->add_subcommand("stop", "stop vcubed and corosync")->callback([&code] {
    code = report(stop_services(), "services stopped");
  });
}

void add_node_commands(CLI::App& app, global_options& g, int& code) {
  auto* node = app.add_subcommand("node", "cluster nodes")->require_subcommand(1);
  static std::string name;
  static bool is_forced = false;
  node->add_subcommand("list", "list nodes")->callback([&g, &code] {
    session s(g);
    code = node_list(s);
  });
  auto* show = node->add_subcommand("show", "show a node");
  show->add_option("node", name)->required();
  show->callback([&g, &code] {
    session s(g);
    code = node_show(s, name);
  });
  for (auto [command, mode] : {std::pair{"set-online", "online"}, {"set-standby", "standby"}}) {
    auto* sub = node->add_subcommand(command, std::string("set a node's mode to ") + mode);
    sub->add_option("node", name)->required();
    sub->callback([&g, &code, mode = std::string(mode)] {
      session s(g);
      code = node_set_mode(s, name, mode);
    });
  }
  auto* remove = node->add_subcommand("remove", "remove a node from the cluster");
  remove->add_option("node", name)->required();
  remove->add_flag("--force", is_forced, "even if it is still a running member");
  remove->callback([&g, &code] {
    session s(g);
    code = node_remove(s, name, is_forced);
  });
}

void add_object_commands(CLI::App& app, global_options& g, int& code) {
  static std::string kind, name;
  static set_options set;
  static uint64_t base_version = 0;
  auto* get = app.add_subcommand("get", "show domain objects: get KIND [NAME]");
  get->add_option("kind", kind, "cluster, node, host, network, user, group")->required();
  get->add_option("name", name);
  get->callback([&g, &code] {
    session s(g);
    code = object_get(s, kind, name);
  });
  auto* put = app.add_subcommand("set", "create or edit: set KIND NAME key=value...");
  put->add_option("kind", kind)->required();
  put->add_option("name", name)->required();
  put->add_option("assignments", set.assignments, "key=value (JSON values allowed)");
  put->add_option("--value", set.value_json, "the whole value as JSON");
  put->add_flag("--replace", set.is_replace, "replace instead of merging with the current value");
  put->add_flag("--stage", set.is_staged, "stage the change for `vcube staged activate`");
  auto* bv = put->add_option("--base-version", base_version, "refuse if the object changed since");
  put->callback([&g, &code, bv] {
    if (bv->count() > 0)
      set.base_version = base_version;
    session s(g);
    code = object_set(s, kind, name, set);
  });
  auto* del = app.add_subcommand("delete", "delete: delete KIND NAME");
  del->add_option("kind", kind)->required();
  del->add_option("name", name)->required();
  del->add_flag("--stage", set.is_staged, "stage the deletion");
  auto* dbv = del->add_option("--base-version", base_version, "refuse if the object changed since");
  del->callback([&g, &code, dbv] {
    session s(g);
    code = object_delete(s, kind, name, set.is_staged,
                         dbv->count() > 0 ? std::optional<uint64_t>(base_version) : std::nullopt);
  });
}

void add_staged_and_backup_commands(CLI::App& app, global_options& g, int& code) {
  auto* staged = app.add_subcommand("staged", "pending changes: diff, activate, discard");
  staged->add_subcommand("diff", "show pending changes (default)");
  staged->add_subcommand("activate", "apply all pending changes as one version");
  staged->add_subcommand("discard", "drop all pending changes");
  staged->callback([staged, &g, &code] {
    session s(g);
    if (staged->got_subcommand("activate")) {
      code = staged_activate(s);
    } else if (staged->got_subcommand("discard")) {
      code = staged_discard(s);
    } else {
      code = staged_diff(s);
    }
  });
  static std::string file;
  auto* backup = app.add_subcommand("backup", "configuration backup")->require_subcommand(1);
  auto* ex = backup->add_subcommand("export", "write the whole domain as JSON");
  ex->add_option("file", file, "output file (default: stdout)");
  ex->callback([&g, &code] {
    session s(g);
    code = backup_export(s, file);
  });
  auto* im = backup->add_subcommand("import", "replace the domain (but its nodes) by a backup");
  im->add_option("file", file)->required();
  im->callback([&g, &code] {
    session s(g);
    code = backup_import(s, file);
  });
  static std::string user = "admin", password_file;
  auto* login_cmd = app.add_subcommand("login", "log in and keep the token for later commands");
  login_cmd->add_option("--user", user);
  login_cmd->add_option("--password-file", password_file);
  login_cmd->callback([&g, &code] {
    session s(g);
    code = login(s, user, password_file);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vcube: manage a vcube cluster"};
  app.require_subcommand(1);
  global_options g;
  app.add_option("--url", g.url, "API of any node (default: from /etc/vcube/cli.json)");
  app.add_option("--ca", g.ca_file, "cluster CA certificate (default: /etc/vcube/ca.crt)");
  app.add_flag("--json", g.is_json, "machine-readable output");
  int code = 0;
  add_cluster_commands(app, g, code);
  add_node_commands(app, g, code);
  add_object_commands(app, g, code);
  add_staged_and_backup_commands(app, g, code);
  add_vm_commands(app, g, code);
  add_ha_commands(app, g, code);
  add_disk_commands(app, g, code);
  add_lab_commands(app, code);
  CLI11_PARSE(app, argc, argv);
  return code;
}
