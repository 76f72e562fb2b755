#include "cli/vm_commands.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/ha_commands.h"
#include "cli/table.h"

namespace vcube::cli {
namespace {

struct vm_create_options {
  std::string node, machine, accel, cdrom, boot, kernel, initrd, cmdline, description, config;
  int vcpus = 1;
  int64_t memory_mib = 512;
  std::vector<std::string> disks, nics;
  bool has_cdrom = false;
  bool has_ha = false;
  vm_ha_flags ha;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      return out;
    start = end + 1;
  }
}

// "first,key=value,flag" → {first_key: first, key: value, flag: true}; sizes are numbers.
result<json> parse_item(const std::string& text, const char* first_key,
                        std::initializer_list<const char*> keys) {
  auto parts = split(text, ',');
  if (parts[0].empty())
    return make_error(errc::invalid_input,
                      std::string("missing ") + first_key + " in '" + text + "'");
  json item = {{first_key, parts[0]}};
  for (size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    std::string key = parts[i].substr(0, eq);
    if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return key == k; }) ==
        keys.end())
      return make_error(errc::invalid_input, "unknown option '" + key + "' in '" + text + "'");
    if (eq == std::string::npos) {
      item[key] = true;
    } else if (key == "size") {
      try {
        item["size_mib"] = std::stoll(parts[i].substr(eq + 1));
      } catch (const std::exception&) {
        return make_error(errc::invalid_input, "size must be a number of MiB in '" + text + "'");
      }
    } else {
      item[key] = parts[i].substr(eq + 1);
    }
  }
  return item;
}

std::string uptime_text(int64_t s) {
  if (s <= 0)
    return "-";
  char text[32];
  if (s >= 86400)
    std::snprintf(text, sizeof text, "%lldd%02lldh", (long long)(s / 86400),
                  (long long)(s % 86400 / 3600));
  else
    std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld", (long long)(s / 3600),
                  (long long)(s % 3600 / 60), (long long)(s % 60));
  return text;
}

std::string state_text(const json& vm) {
  std::string state = vm.value("state", "");
  if (vm.value("not_responding", false))
    state += " (not responding)";
  else if (!vm.value("reason", "").empty())
    state += " (" + vm.value("reason", "") + ")";
  return state;
}

int vm_list(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/vms");
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << (*r)["items"].dump(2) << '\n';
    return 0;
  }
  table t({"NAME", "NODE", "STATE", "VCPUS", "MEMORY", "UPTIME"});
  for (const auto& vm : (*r)["items"])
    t.add({vm.value("name", ""), vm.value("node", ""), state_text(vm),
           std::to_string(vm.value("vcpus", 0)), std::to_string(vm.value("memory_mib", 0)) + " MiB",
           uptime_text(vm.value("uptime_s", int64_t(0)))});
  t.print(std::cout);
  if (r->value("stale", false))
    std::cout << "(this node has no quorum or is synchronising: the list may be old)\n";
  return 0;
}

int vm_show(session& s, const std::string& name) {
  auto r = s.call(http::verb::get, "/api/v1/vms/" + name);
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << r->dump(2) << '\n';
    return 0;
  }
  std::cout << "name      " << name << "\nnode      " << r->value("node", "") << "\nstate     "
            << state_text(*r) << "\nuptime    " << uptime_text(r->value("uptime_s", int64_t(0)))
            << "\nconfig    (version " << r->value("version", 0) << ")\n"
            << (*r)["config"].dump(2) << '\n';
  return 0;
}

result<json> config_from(const vm_create_options& o) {
  if (!o.config.empty())
    return parse_json(o.config);
  json c = {{"vcpus", o.vcpus}, {"memory_mib", o.memory_mib}, {"node", o.node}};
  for (auto [key, value] : {std::pair{"machine", &o.machine},
                            {"acceleration", &o.accel},
                            {"description", &o.description}})
    if (!value->empty())
      c[key] = *value;
  for (const auto& d : o.disks) {
    auto disk = parse_disk_option(d);
    if (!disk)
      return disk.err();
    c["disks"].push_back(*disk);
  }
  for (const auto& n : o.nics) {
    auto nic = parse_nic_option(n);
    if (!nic)
      return nic.err();
    c["nics"].push_back(*nic);
  }
  if (o.has_cdrom)
    c["cdrom"] = o.cdrom;
  if (!o.boot.empty())
    c["boot_order"] = split(o.boot, ',');
  if (!o.kernel.empty()) {
    c["kernel"] = {{"kernel", o.kernel}};
    if (!o.initrd.empty())
      c["kernel"]["initrd"] = o.initrd;
    if (!o.cmdline.empty())
      c["kernel"]["cmdline"] = o.cmdline;
  }
  return c;
}

int vm_create(session& s, const std::string& name, const vm_create_options& o) {
  auto config = config_from(o);
  if (!config)
    return fail(config.err());
  auto ha = ha_section(o.has_ha, o.ha);
  if (!ha)
    return fail(ha.err());
  if (!ha->is_null())
    (*config)["ha"] = *ha;
  auto r = s.call(http::verb::put, "/api/v1/vms/" + name,
                  json{{"config", *config}, {"base_version", 0}});
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << r->dump(2) << '\n';
    return 0;
  }
  std::cout << "vm " << name << " created (version " << r->value("version", 0)
            << "); `vcube vm start " << name << "` starts it\n";
  return 0;
}

// Merges key=value assignments into the current config and writes it back
// against the version read, so a concurrent edit is refused, not lost.
int vm_edit(session& s, const std::string& name, const std::vector<std::string>& assignments,
            const std::string& config_json) {
  auto current = s.call(http::verb::get, "/api/v1/vms/" + name);
  if (!current)
    return fail(current.err());
  json config = (*current)["config"];
  if (!config_json.empty()) {
    auto parsed = parse_json(config_json);
    if (!parsed)
      return fail(parsed.err());
    config = *parsed;
  }
  for (const auto& a : assignments) {
    auto kv = parse_assignment(a);
    if (!kv)
      return fail(kv.err());
    if (kv->second.is_null())
      config.erase(kv->first);
    else
      config[kv->first] = kv->second;
  }
  auto r = s.call(http::verb::put, "/api/v1/vms/" + name,
                  json{{"config", config}, {"base_version", (*current)["version"]}});
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << r->dump(2) << '\n';
    return 0;
  }
  std::cout << "vm " << name << " changed (version " << r->value("version", 0)
            << "); a running VM uses the new definition from its next start\n";
  return 0;
}

int vm_simple(session& s, http::verb verb, const std::string& target, std::optional<json> body,
              const std::string& done) {
  auto r = s.call(verb, target, std::move(body));
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << r->dump(2) << '\n';
    return 0;
  }
  std::cout << done;
  if (r->contains("state"))
    std::cout << ": " << state_text(*r);
  std::cout << '\n';
  return 0;
}

int vm_console_url(session& s, const std::string& name, bool with_token) {
  auto vm = s.call(http::verb::get, "/api/v1/vms/" + name);
  if (!vm)
    return fail(vm.err());
  auto status = s.call(http::verb::get, "/api/v1/cluster/status");
  if (!status)
    return fail(status.err());
  std::string address;
  for (const auto& m : (*status)["members"])
    if (m.value("name", "") == (*status)["node"].value("name", ""))
      address = m.value("address", "");
  std::string url = "wss://" + address + ":8001/api/v1/vms/" + name + "/console";
  if (with_token) {
    auto token = s.bearer_token();
    if (!token)
      return fail(token.err());
    url += "?token=" + *token;
  }
  if (s.is_json()) {
    std::cout << json{{"url", url}, {"protocol", "binary"}}.dump(2) << '\n';
    return 0;
  }
  std::cout << url
            << "\n(a WebSocket carrying RFB, for noVNC; any node forwards it to the node "
               "that runs the VM)\n";
  return 0;
}

void add_create(CLI::App& vm, global_options& g, int& code, std::string& name) {
  static vm_create_options o;
  auto* create = vm.add_subcommand("create", "define a VM");
  create->add_option("name", name)->required();
  create->add_option("--node", o.node, "the node that runs it")->required();
  create->add_option("--vcpus", o.vcpus);
  create->add_option("--memory-mib", o.memory_mib);
  create->add_option("--machine", o.machine, "q35 (default) or pc");
  create->add_option("--accel", o.accel, "auto (default), kvm or tcg");
  create->add_option(
      "--disk", o.disks,
      "IMAGE[,size=MIB][,bus=..][,cache=..][,format=..], or esan:DISK[,bus=..][,cache=..]");
  create->add_option("--nic", o.nics, "NETWORK[,mac=..]");
  auto* cdrom = create->add_option("--cdrom", o.cdrom, "an ISO in the image directory, or \"\"");
  create->add_option("--boot", o.boot, "boot order, e.g. disk,cdrom,network");
  create->add_option("--kernel", o.kernel, "direct kernel boot: kernel image");
  create->add_option("--initrd", o.initrd);
  create->add_option("--cmdline", o.cmdline);
  create->add_option("--description", o.description);
  create->add_option("--config", o.config, "the whole definition as JSON instead");
  static int ha_priority = 0;
  create->add_flag("--ha", o.has_ha, "HA-managed (`vm start` then starts it through HA)");
  auto* priority = create->add_option("--ha-priority", ha_priority, "0..100, higher placed first");
  create->add_flag("--ha-sticky", o.ha.is_sticky, "never recovered on another node");
  create->add_option("--ha-preferred", o.ha.preferred_node, "the node HA prefers");
  create->callback([&g, &code, &name, cdrom, priority] {
    o.has_cdrom = cdrom->count() > 0;
    if (priority->count() > 0)
      o.ha.priority = ha_priority;
    session s(g);
    code = vm_create(s, name, o);
  });
}

// 200: it runs on `node`; 202: the HA manager is still moving it; no state:
// a stopped VM that is not HA-managed, whose node was just changed.
int vm_migrate(session& s, const std::string& name, const std::string& node) {
  auto r = s.call(http::verb::post, "/api/v1/vms/" + name + "/migrate", json{{"node", node}});
  if (!r)
    return fail(r.err());
  if (s.is_json()) {
    std::cout << r->dump(2) << '\n';
    return 0;
  }
  std::string state = r->value("state", "");
  if (state.empty())
    std::cout << "vm " << name << " will start on node " << node << '\n';
  else if (state == "running")
    std::cout << "vm " << name << " runs on node " << r->value("node", node) << '\n';
  else
    std::cout << "vm " << name << " is moving to node " << node << " (" << state
              << (r->value("message", "").empty() ? "" : ": " + r->value("message", ""))
              << "); `vcube ha status` follows it\n";
  return 0;
}

int vm_ha(session& s, const std::string& name, bool is_on, const vm_ha_flags& flags) {
  json settings = ha_settings(flags);
  if (!is_on && !settings.empty())
    return fail(make_error(errc::invalid_input,
                           "--priority, --sticky and --preferred-node go with `on`, not `off`"));
  std::string target = "/api/v1/vms/" + name + "/ha";
  if (!is_on)
    return vm_simple(s, http::verb::delete_, target, std::nullopt, "vm " + name + ": HA off");
  settings["enabled"] = true;
  return vm_simple(s, http::verb::post, target, settings, "vm " + name + ": HA on");
}

void add_ha_actions(CLI::App& vm, global_options& g, int& code, std::string& name) {
  static std::string node, mode;
  static vm_ha_flags flags;
  static int priority = 0;
  auto* prefer = vm.add_subcommand("set-preference", "the node HA prefers for a VM");
  prefer->add_option("name", name)->required();
  prefer->add_option("node", node)->required();
  prefer->callback([&g, &code, &name] {
    session s(g);
    code = vm_simple(s, http::verb::post, "/api/v1/vms/" + name + "/preference",
                     json{{"node", node}}, "vm " + name + " prefers node " + node);
  });
  for (auto [command, help, verb, path, done] :
       {std::tuple{"clear-preference", "forget the preferred node", http::verb::delete_,
                   "/preference", ": no preferred node"},
        {"release", "end a sticky VM's binding to its node", http::verb::post, "/release",
         " released"}}) {
    auto* sub = vm.add_subcommand(command, help);
    sub->add_option("name", name)->required();
    sub->callback([&g, &code, &name, verb, p = std::string(path), d = std::string(done)] {
      session s(g);
      code = vm_simple(s, verb, "/api/v1/vms/" + name + p, std::nullopt, "vm " + name + d);
    });
  }
  auto* migrate = vm.add_subcommand("migrate", "move a VM to a node (HA: a clean restart)");
  migrate->add_option("name", name)->required();
  migrate->add_option("node", node)->required();
  migrate->callback([&g, &code, &name] {
    session s(g);
    code = vm_migrate(s, name, node);
  });
  auto* ha = vm.add_subcommand("ha", "turn HA on or off: ha NAME on|off");
  ha->add_option("name", name)->required();
  ha->add_option("mode", mode)->required()->check(CLI::IsMember({"on", "off"}));
  auto* priority_option = ha->add_option("--priority", priority, "0..100, higher placed first");
  ha->add_flag("--sticky", flags.is_sticky, "never recovered on another node");
  ha->add_option("--preferred-node", flags.preferred_node, "the node HA prefers");
  ha->callback([&g, &code, &name, priority_option] {
    if (priority_option->count() > 0)
      flags.priority = priority;
    session s(g);
    code = vm_ha(s, name, mode == "on", flags);
  });
}

void add_actions(CLI::App& vm, global_options& g, int& code, std::string& name) {
  static int64_t timeout_s = 0;
  for (const char* action :
       {"start", "shutdown", "reboot", "reset", "poweroff", "pause", "resume"}) {
    auto* sub = vm.add_subcommand(action, std::string(action) + " a VM");
    sub->add_option("name", name)->required();
    if (std::string(action) == "shutdown" || std::string(action) == "reboot")
      sub->add_option("--timeout", timeout_s, "seconds to wait for the guest (default 120)");
    sub->callback([&g, &code, &name, a = std::string(action)] {
      session s(g);
      std::optional<json> body;
      if (timeout_s > 0)
        body = json{{"timeout_s", timeout_s}};
      code = vm_simple(s, http::verb::post, "/api/v1/vms/" + name + "/" + a, body,
                       "vm " + name + " " + a);
    });
  }
}

}  // namespace

result<json> parse_disk_option(const std::string& text) {
  if (text.rfind("esan:", 0) == 0)
    return parse_item(text.substr(5), "esan", {"bus", "cache", "readonly"});
  return parse_item(text, "image", {"size", "bus", "cache", "format", "readonly"});
}

result<json> parse_nic_option(const std::string& text) {
  return parse_item(text, "network", {"mac", "model"});
}

void add_vm_commands(CLI::App& app, global_options& g, int& code) {
  static std::string name, iso, config_json;
  static std::vector<std::string> assignments;
  static bool with_token = true;
  auto* vm = app.add_subcommand("vm", "virtual machines")->require_subcommand(1);
  vm->add_subcommand("list", "list VMs")->callback([&g, &code] {
    session s(g);
    code = vm_list(s);
  });
  auto* show = vm->add_subcommand("show", "show a VM");
  show->add_option("name", name)->required();
  show->callback([&g, &code] {
    session s(g);
    code = vm_show(s, name);
  });
  add_create(*vm, g, code, name);
  auto* edit = vm->add_subcommand("edit", "change a VM: edit NAME key=value...");
  edit->add_option("name", name)->required();
  edit->add_option("assignments", assignments, "key=value (JSON values; null removes)");
  edit->add_option("--config", config_json, "the whole definition as JSON");
  edit->callback([&g, &code] {
    session s(g);
    code = vm_edit(s, name, assignments, config_json);
  });
  auto* del = vm->add_subcommand("delete", "delete a stopped VM's definition");
  del->add_option("name", name)->required();
  del->callback([&g, &code] {
    session s(g);
    code = vm_simple(s, http::verb::delete_, "/api/v1/vms/" + name, std::nullopt,
                     "vm " + name + " deleted");
  });
  add_actions(*vm, g, code, name);
  add_ha_actions(*vm, g, code, name);
  auto* console = vm->add_subcommand("console-url", "the console's WebSocket URL (noVNC)");
  console->add_option("name", name)->required();
  console->add_flag("!--no-token", with_token, "leave the token out of the URL");
  console->callback([&g, &code] {
    session s(g);
    code = vm_console_url(s, name, with_token);
  });
  auto* cdrom = vm->add_subcommand("cdrom", "insert or eject an ISO")->require_subcommand(1);
  auto* insert = cdrom->add_subcommand("insert", "cdrom insert NAME ISO");
  insert->add_option("name", name)->required();
  insert->add_option("iso", iso)->required();
  insert->callback([&g, &code] {
    session s(g);
    code = vm_simple(s, http::verb::post, "/api/v1/vms/" + name + "/cdrom", json{{"iso", iso}},
                     "vm " + name + ": " + iso + " inserted");
  });
  auto* eject = cdrom->add_subcommand("eject", "cdrom eject NAME");
  eject->add_option("name", name)->required();
  eject->callback([&g, &code] {
    session s(g);
    code = vm_simple(s, http::verb::delete_, "/api/v1/vms/" + name + "/cdrom", std::nullopt,
                     "vm " + name + ": cdrom ejected");
  });
}

}  // namespace vcube::cli
