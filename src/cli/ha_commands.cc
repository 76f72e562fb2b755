#include "cli/ha_commands.h"

#include <algorithm>
#include <ctime>
#include <iostream>

#include "cli/table.h"
#include "env/files.h"

namespace vcube::cli {
namespace {

// `ha status` lists this many alerts; `vcube alerts` shows the rest.
constexpr size_t status_alerts_shown_max = 5;

// Flag errors name the flag in the message; an API field name would only repeat it.
error invalid(std::string message) {
  return make_error(errc::invalid_input, std::move(message));
}

int print_json(const json& j) {
  std::cout << j.dump(2) << '\n';
  return 0;
}

// A missing or null key reads as `fallback` (json's const operator[] asserts on
// a missing key, and the API sends null for "never checked").
json field(const json& object, const char* key, json fallback = json::array()) {
  if (!object.is_object())
    return fallback;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? fallback : *it;
}

// The API's times are unix milliseconds; UTC keeps the output the same on every node.
std::string time_text(const json& unix_ms) {
  if (!unix_ms.is_number_integer() || unix_ms.get<int64_t>() <= 0)
    return "-";
  std::time_t s = unix_ms.get<int64_t>() / 1000;
  std::tm t{};
  gmtime_r(&s, &t);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &t);
  return text;
}

// A device's last monitor result: true, false, or null when never checked.
std::string health_text(const json& ok) {
  if (!ok.is_boolean())
    return "unchecked";
  return ok.get<bool>() ? "ok" : "FAILED";
}

std::string joined(const json& items, const char* separator) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : separator) + (item.is_string() ? item.get<std::string>() : "");
  return out;
}

std::string options_text(const json& options) {
  std::string out;
  for (const auto& [key, value] : options.items())
    out +=
        (out.empty() ? "" : " ") + key + "=" + (value.is_string() ? value.get<std::string>() : "");
  return out;
}

void print_section(std::ostream& out, const char* title, const table& t, size_t rows) {
  out << '\n' << title << '\n';
  if (rows == 0)
    out << "none\n";
  else
    t.print(out);
}

table alerts_table(const json& alerts, size_t limit) {
  table t({"AT", "SEVERITY", "SUBJECT", "TEXT"});
  for (size_t i = 0; i < std::min(alerts.size(), limit); ++i) {
    const json& a = alerts[i];
    t.add({time_text(field(a, "at", 0)), a.value("severity", ""), a.value("subject", ""),
           a.value("text", "")});
  }
  return t;
}

int ha_status(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/ha");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  render_ha_status(*r, std::cout);
  return 0;
}

result<std::string> password_from(const std::string& file) {
  auto text = env::read_file(file);
  if (!text)
    return make_error(text.err().code, "--password-file " + file + ": " + text.err().message);
  std::string line = text->substr(0, text->find('\n'));
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.empty())
    return invalid("--password-file " + file + ": the first line is empty");
  return line;
}

std::string device_target(const std::string& name) {
  return "/api/v1/fence/devices/" + name;
}

// add: base_version 0, so an existing device is never overwritten; set: the
// version read just before, so a concurrent change is refused, not lost.
int device_write(session& s, const std::string& name, const fence_device_flags& flags,
                 bool is_add) {
  std::optional<std::string> password;
  if (!flags.password_file.empty()) {
    auto p = password_from(flags.password_file);
    if (!p)
      return fail(p.err());
    password = *p;
  }
  auto config = fence_device_config(flags, password);
  if (!config)
    return fail(config.err());
  uint64_t base_version = 0;
  if (!is_add) {
    auto current = s.call(http::verb::get, device_target(name));
    if (!current)
      return fail(current.err());
    base_version = current->value("version", uint64_t{0});
  }
  auto r = s.call(http::verb::put, device_target(name),
                  json{{"config", *config}, {"base_version", base_version}});
  if (!r && is_add && r.err().code == errc::conflict)
    return fail(make_error(errc::conflict, "fence device " + name +
                                               " already exists; `vcube fence device set` "
                                               "replaces it"));
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  std::cout << "fence device " << name << (is_add ? " added" : " replaced") << " (version "
            << r->value("version", 0) << "); `vcube fence device test " << name << "` checks it\n";
  return 0;
}

int device_list(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/fence/devices");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  table t({"NAME", "AGENT", "LEVEL", "NODES", "HEALTH", "CHECKED", "DESCRIPTION"});
  for (const auto& d : field(*r, "items")) {
    json status = field(d, "status", json::object());
    json nodes = json::array();
    json node_options = field(d, "nodes", json::object());  // items() must not outlive it
    for (const auto& [node, options] : node_options.items())
      nodes.push_back(node);
    t.add({d.value("name", ""), d.value("agent", ""), std::to_string(d.value("level", 1)),
           joined(nodes, ","), health_text(field(status, "ok", nullptr)),
           time_text(field(status, "checked_at", 0)), d.value("description", "")});
  }
  t.print(std::cout);
  return 0;
}

int device_show(session& s, const std::string& name) {
  auto r = s.call(http::verb::get, device_target(name));
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  json status = field(*r, "status", json::object());
  std::string message = status.value("message", "");
  std::cout << "fence device " << name << " (version " << r->value("version", 0) << ")\n"
            << "  agent        " << r->value("agent", "") << "\n  level        "
            << r->value("level", 1) << "\n  description  " << r->value("description", "-")
            << "\n  health       " << health_text(field(status, "ok", nullptr)) << ", checked "
            << time_text(field(status, "checked_at", 0)) << (message.empty() ? "" : ": " + message)
            << "\n  options      " << options_text(field(*r, "options", json::object())) << '\n';
  json nodes = field(*r, "nodes", json::object());  // items() must not outlive it
  for (const auto& [node, options] : nodes.items())
    std::cout << "  node " << node << (options.empty() ? "" : "  " + options_text(options)) << '\n';
  return 0;
}

int device_remove(session& s, const std::string& name) {
  auto r = s.call(http::verb::delete_, device_target(name));
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  std::cout << "fence device " << name << " removed (version " << r->value("version", 0) << ")\n";
  return 0;
}

// The exit code says whether the device works, so scripts can gate on it.
int device_test(session& s, const std::string& name) {
  auto r = s.call(http::verb::post, device_target(name) + "/test");
  if (!r)
    return fail(r.err());
  json monitor = field(*r, "monitor", json::object());
  bool is_ok = monitor.value("ok", false);
  table t({"NODE", "RESULT", "POWER", "MESSAGE"});
  for (const auto& n : field(*r, "nodes")) {
    is_ok = is_ok && n.value("ok", false);
    t.add({n.value("node", ""), n.value("ok", false) ? "ok" : "FAILED", n.value("power", ""),
           n.value("message", "")});
  }
  if (s.is_json()) {
    print_json(*r);
  } else {
    std::cout << "fence device " << name << ": monitor "
              << (monitor.value("ok", false) ? "ok" : "FAILED " + monitor.value("message", ""))
              << '\n';
    t.print(std::cout);
  }
  return is_ok ? 0
               : fail(make_error(errc::unavailable, "fence device " + name + " failed its test"));
}

// `limit` applies to --json too: the body keeps its shape with fewer items.
int fence_history(session& s, const std::string& node, size_t limit) {
  auto r = s.call(http::verb::get, "/api/v1/fence/history" + (node.empty() ? "" : "?node=" + node));
  if (!r)
    return fail(r.err());
  json items = field(*r, "items");
  if (items.size() > limit)
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(limit), items.end());
  if (s.is_json())
    return print_json({{"items", items}});
  table t({"AT", "NODE", "DEVICE", "ACTION", "RESULT", "EXIT", "DURATION", "MANAGER", "MESSAGE"});
  for (const auto& e : items)
    t.add({time_text(field(e, "at", 0)), e.value("node", ""), e.value("device", ""),
           e.value("action", ""), e.value("ok", false) ? "ok" : "FAILED",
           std::to_string(e.value("exit_code", -1)),
           std::to_string(e.value("duration_ms", int64_t(0))) + " ms", e.value("manager", ""),
           e.value("message", "")});
  t.print(std::cout);
  return 0;
}

int alerts(session& s, size_t limit) {
  auto r = s.call(http::verb::get, "/api/v1/alerts");
  if (!r)
    return fail(r.err());
  json items = field(*r, "items");
  if (items.size() > limit)
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(limit), items.end());
  if (s.is_json())
    return print_json({{"items", items}});
  if (items.empty())
    std::cout << "no alerts\n";
  else
    alerts_table(items, limit).print(std::cout);
  return 0;
}

void add_device_writer(CLI::App& device, const char* command, const char* help, bool is_add,
                       global_options& g, int& code) {
  static fence_device_flags flags;
  static std::string name;
  static int level = 1;
  auto* sub = device.add_subcommand(command, help);
  sub->add_option("name", name)->required();
  sub->add_option("--agent", flags.agent, "fence agent: fence_redfish, fence_ipmilan, ...")
      ->required();
  // One value per flag, so `--node n1 bmc1` does not take the name as a second node.
  sub->add_option("--option", flags.options, "agent option key=value (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--node", flags.nodes,
                  "NODE[:key=value[,key=value...]]: a node it powers (repeatable)")
      ->required()
      ->allow_extra_args(false);
  auto* level_option = sub->add_option("--level", level, "1 is tried first (default 1)");
  sub->add_option("--description", flags.description);
  sub->add_option("--password-file", flags.password_file,
                  "sets option password from the file's first line");
  sub->callback([&g, &code, level_option, is_add] {
    if (level_option->count() > 0)
      flags.level = level;
    session s(g);
    code = device_write(s, name, flags, is_add);
  });
}

void add_fence_commands(CLI::App& app, global_options& g, int& code) {
  static std::string name, node;
  static size_t limit = 50;
  auto* fence = app.add_subcommand("fence", "fence devices and history")->require_subcommand(1);
  auto* device = fence->add_subcommand("device", "fence devices")->require_subcommand(1);
  add_device_writer(*device, "add", "define a fence device (refuses to overwrite one)", true, g,
                    code);
  add_device_writer(*device, "set", "replace a fence device's whole definition", false, g, code);
  device->add_subcommand("list", "fence devices and their health")->callback([&g, &code] {
    session s(g);
    code = device_list(s);
  });
  for (auto [command, help] : {std::pair{"show", "show a fence device"},
                               {"remove", "delete a fence device"},
                               {"test", "run the agent's monitor, and status for each node"}}) {
    auto* sub = device->add_subcommand(command, help);
    sub->add_option("name", name)->required();
    sub->callback([&g, &code, c = std::string(command)] {
      session s(g);
      if (c == "show")
        code = device_show(s, name);
      else if (c == "test")
        code = device_test(s, name);
      else
        code = device_remove(s, name);
    });
  }
  auto* history = fence->add_subcommand("history", "fence actions, latest first");
  history->add_option("--node", node, "only those against this node");
  history->add_option("--limit", limit, "at most this many (default 50)");
  history->callback([&g, &code] {
    session s(g);
    code = fence_history(s, node, limit);
  });
}

}  // namespace

json ha_settings(const vm_ha_flags& flags) {
  json out = json::object();
  if (flags.priority)
    out["priority"] = *flags.priority;
  if (flags.is_sticky)
    out["sticky"] = true;
  if (!flags.preferred_node.empty())
    out["preferred_node"] = flags.preferred_node;
  return out;
}

result<json> ha_section(bool has_ha, const vm_ha_flags& flags) {
  json section = ha_settings(flags);
  if (!has_ha && !section.empty())
    return invalid("--ha-priority, --ha-sticky and --ha-preferred need --ha");
  if (!has_ha)
    return json(nullptr);
  section["state"] = "stopped";
  return section;
}

result<std::pair<std::string, std::string>> parse_fence_option(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return invalid("--option " + text + ": expected key=value");
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

result<std::pair<std::string, json>> parse_fence_node(const std::string& text) {
  auto colon = text.find(':');
  std::string node = text.substr(0, colon);
  if (node.empty())
    return invalid("--node " + text + ": expected NODE[:key=value[,key=value...]]");
  json options = json::object();
  for (size_t start = colon; start != std::string::npos;) {
    size_t end = text.find(',', start + 1);
    std::string part = text.substr(start + 1, end == std::string::npos ? end : end - start - 1);
    auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid("--node " + text + ": expected key=value, got '" + part + "'");
    std::string key = part.substr(0, eq);
    if (options.contains(key))
      return invalid("--node " + text + ": " + key + " is given twice");
    options[key] = part.substr(eq + 1);
    start = end;
  }
  return std::make_pair(node, options);
}

result<json> fence_device_config(const fence_device_flags& flags,
                                 const std::optional<std::string>& password) {
  json options = json::object();
  for (const auto& text : flags.options) {
    auto kv = parse_fence_option(text);
    if (!kv)
      return kv.err();
    if (options.contains(kv->first))
      return invalid("--option " + text + ": " + kv->first + " is given twice");
    options[kv->first] = kv->second;
  }
  if (password && options.contains("password"))
    return invalid("--password-file: the password is also given by --option password=...");
  if (password)
    options["password"] = *password;
  json nodes = json::object();
  for (const auto& text : flags.nodes) {
    auto node = parse_fence_node(text);
    if (!node)
      return node.err();
    if (nodes.contains(node->first))
      return invalid("--node " + text + ": node " + node->first + " is given twice");
    nodes[node->first] = node->second;
  }
  if (nodes.empty())
    return invalid("--node: name at least one node the device powers");
  json config = {{"agent", flags.agent}, {"nodes", nodes}};
  if (!options.empty())
    config["options"] = options;
  if (flags.level)
    config["level"] = *flags.level;
  if (!flags.description.empty())
    config["description"] = flags.description;
  return config;
}

void render_ha_status(const json& body, std::ostream& out) {
  std::string manager = body.value("manager", "");
  out << "manager   " << (manager.empty() ? "none (no quorum, or being elected)" : manager)
      << "\nquorum    "
      << (body.value("is_quorate", false) ? "yes" : "NO (HA acts only in a quorate partition)")
      << '\n';
  json vms = field(body, "vms"), fences = field(body, "fences"), devices = field(body, "devices");
  table v({"NAME", "NODE", "HA", "STATE", "TARGET", "PREFERRED", "MESSAGE"});
  for (const auto& vm : vms)
    v.add({vm.value("name", ""), vm.value("node", ""), vm.value("ha", ""), vm.value("state", ""),
           vm.value("target", ""), vm.value("preferred_node", ""), vm.value("message", "")});
  print_section(out, "HA VMS", v, vms.size());
  table f({"NODE", "STATE", "ATTEMPTS", "REQUESTED", "MESSAGE"});
  for (const auto& fence : fences)
    f.add({fence.value("node", ""), fence.value("state", ""),
           std::to_string(fence.value("attempts", 0)), time_text(field(fence, "requested_at", 0)),
           fence.value("message", "")});
  print_section(out, "FENCES", f, fences.size());
  table d({"DEVICE", "AGENT", "NODES", "HEALTH", "CHECKED", "MESSAGE"});
  for (const auto& device : devices)
    d.add({device.value("name", ""), device.value("agent", ""), joined(field(device, "nodes"), ","),
           health_text(field(device, "ok", nullptr)), time_text(field(device, "checked_at", 0)),
           device.value("message", "")});
  print_section(out, "FENCE DEVICES", d, devices.size());
  json alerts = field(body, "alerts");
  print_section(out, "LAST ALERTS", alerts_table(alerts, status_alerts_shown_max),
                std::min(alerts.size(), status_alerts_shown_max));
  if (alerts.size() > status_alerts_shown_max)
    out << "(`vcube alerts` shows more)\n";
}

void add_ha_commands(CLI::App& app, global_options& g, int& code) {
  static size_t alert_limit = 20;
  auto* ha = app.add_subcommand("ha", "high availability")->require_subcommand(1);
  ha->add_subcommand("status", "HA VMs, fences, fence devices, last alerts")->callback([&g, &code] {
    session s(g);
    code = ha_status(s);
  });
  add_fence_commands(app, g, code);
  auto* alerts_command = app.add_subcommand("alerts", "HA and fencing alerts, latest first");
  alerts_command->add_option("--limit", alert_limit, "at most this many (default 20)");
  alerts_command->callback([&g, &code] {
    session s(g);
    code = alerts(s, alert_limit);
  });
}

}  // namespace vcube::cli
