#include "cli/commands.h"

#include <iostream>

#include "cli/table.h"
#include "env/files.h"

namespace vcube::cli {
namespace {

std::string text_of(const json& v) {
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_null())
    return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v)
      out += (out.empty() ? "" : ",") + text_of(e);
    return out;
  }
  return v.dump();
}

int print_json(const json& j) {
  std::cout << j.dump(2) << '\n';
  return 0;
}

void print_value(const json& value, const std::string& indent = "") {
  for (const auto& [key, v] : value.items())
    std::cout << indent << key << ": " << text_of(v) << '\n';
}

// `what` says what happened ("network lan written"); a staged change is
// reported with `subject` alone ("network lan staged").
int print_result(session& s, const result<json>& r, const std::string& what,
                 const std::string& subject = {}) {
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  if (r->contains("staged")) {
    std::cout << subject << " staged (" << (*r)["staged"]
              << " pending; `vcube staged activate` applies them)\n";
  } else {
    std::cout << what << " (version " << r->value("version", 0) << ")\n";
  }
  return 0;
}

void print_nodes(const json& nodes) {
  table t({"ID", "NODE", "ADDRESS", "MODE", "MEMBER"});
  for (const auto& n : nodes) {
    t.add({std::to_string(n.value("id", 0)), n.value("name", ""), text_of(n["addresses"]),
           n.value("mode", ""), n.value("is_member", false) ? "yes" : "no"});
  }
  t.print(std::cout);
}

}  // namespace

result<std::pair<std::string, json>> parse_assignment(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return make_error(errc::invalid_input, "expected key=value, got '" + text + "'");
  }
  std::string key = text.substr(0, eq), raw = text.substr(eq + 1);
  auto as_json = parse_json(raw);
  return std::make_pair(key, as_json ? *as_json : json(raw));
}

int cluster_status(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/cluster/status");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  const json& q = (*r)["quorum"];
  std::cout << "cluster   " << r->value("cluster", "") << "   (answered by "
            << (*r)["node"].value("name", "") << ")\n"
            << "quorum    " << (q.value("is_quorate", false) ? "yes" : "NO") << ", "
            << q.value("total_votes", 0) << " of " << q.value("expected_votes", 0) << " votes, "
            << q.value("quorum_votes", 0) << " needed"
            << (q.value("two_node", false) ? " (two_node)" : "") << '\n'
            << "domain    version " << r->value("version", 0) << ", "
            << (r->value("synced", false) ? "synchronised" : "SYNCHRONISING") << ", checksum "
            << r->value("checksum", "").substr(0, 12) << '\n'
            << "corosync  " << (r->value("connected", false) ? "connected" : "NOT CONNECTED")
            << "\n\n";
  print_nodes((*r)["nodes"]);
  return 0;
}

int node_list(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/cluster/status");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json((*r)["nodes"]);
  print_nodes((*r)["nodes"]);
  return 0;
}

int node_show(session& s, const std::string& name) {
  return object_get(s, "node", name);
}

int node_set_mode(session& s, const std::string& name, const std::string& mode) {
  auto r = s.call(http::verb::post, "/api/v1/nodes/" + name + "/mode", json{{"mode", mode}});
  return print_result(s, r, "node " + name + " is now " + mode);
}

int node_remove(session& s, const std::string& name, bool is_forced) {
  auto r = s.call(http::verb::delete_, "/api/v1/nodes/" + name + (is_forced ? "?force=1" : ""));
  return print_result(s, r, "node " + name + " removed");
}

int object_get(session& s, const std::string& kind, const std::string& name) {
  std::string target = "/api/v1/domain/" + kind + (name.empty() ? "" : "/" + name);
  auto r = s.call(http::verb::get, target);
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  if (r->value("stale", false)) {
    std::cerr << "warning: this node has no quorum or is synchronising; the data may be stale\n";
  }
  if (!name.empty()) {
    std::cout << kind << " " << name << " (version " << r->value("version", 0) << ")\n";
    print_value((*r)["value"], "  ");
    return 0;
  }
  std::vector<std::string> columns;
  for (const auto& item : (*r)["items"]) {
    for (const auto& [key, v] : item["value"].items()) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end())
        columns.push_back(key);
    }
  }
  std::vector<std::string> header = {"NAME", "VERSION"};
  for (const auto& c : columns)
    header.push_back(c);
  table t(header);
  for (const auto& item : (*r)["items"]) {
    std::vector<std::string> row = {item.value("name", ""),
                                    std::to_string(item.value("version", 0))};
    for (const auto& c : columns)
      row.push_back(item["value"].contains(c) ? text_of(item["value"][c]) : "");
    t.add(row);
  }
  t.print(std::cout);
  return 0;
}

int object_set(session& s, const std::string& kind, const std::string& name, const set_options& o) {
  json value = json::object();
  std::optional<uint64_t> base = o.base_version;
  if (!o.value_json.empty()) {
    auto parsed = parse_json(o.value_json);
    if (!parsed)
      return fail(parsed.err());
    value = *parsed;
  } else if (!o.is_replace) {
    // Edit in place: start from the current value, and refuse to overwrite a
    // change someone else made meanwhile (optimistic concurrency).
    auto current = s.call(http::verb::get, "/api/v1/domain/" + kind + "/" + name);
    if (current) {
      value = (*current)["value"];
      if (!base)
        base = current->value("version", uint64_t{0});
    } else if (current.err().code != errc::not_found) {
      return fail(current.err());
    } else if (!base) {
      base = 0;
    }
  }
  for (const auto& a : o.assignments) {
    auto kv = parse_assignment(a);
    if (!kv)
      return fail(kv.err());
    value[kv->first] = kv->second;
  }
  json body = {{"value", value}, {"stage", o.is_staged}};
  if (base)
    body["base_version"] = *base;
  auto r = s.call(http::verb::put, "/api/v1/domain/" + kind + "/" + name, body);
  return print_result(s, r, kind + " " + name + " written", kind + " " + name);
}

int object_delete(session& s, const std::string& kind, const std::string& name, bool is_staged,
                  std::optional<uint64_t> base_version) {
  std::string target = "/api/v1/domain/" + kind + "/" + name;
  std::string query;
  if (is_staged)
    query += "stage=1";
  if (base_version)
    query += (query.empty() ? "" : "&") + ("base_version=" + std::to_string(*base_version));
  if (!query.empty())
    target += "?" + query;
  auto r = s.call(http::verb::delete_, target);
  return print_result(s, r, kind + " " + name + " deleted", "deletion of " + kind + " " + name);
}

int staged_diff(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/staged");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  if ((*r)["changes"].empty()) {
    std::cout << "no staged changes\n";
    return 0;
  }
  for (const auto& c : (*r)["changes"]) {
    std::string id = c.value("kind", "") + " " + c.value("name", "");
    if (c.value("op", "") == "delete") {
      std::cout << "- " << id << '\n';
      continue;
    }
    std::cout << (c["current"].is_null() ? "+ " : "~ ") << id << '\n';
    for (const auto& [key, v] : c["value"].items()) {
      bool changed =
          c["current"].is_null() || !c["current"].contains(key) || c["current"][key] != v;
      if (changed) {
        std::string before = c["current"].is_object() && c["current"].contains(key)
                                 ? text_of(c["current"][key])
                                 : "";
        std::cout << "    " << key << ": " << (before.empty() ? "" : before + " -> ") << text_of(v)
                  << '\n';
      }
    }
  }
  return 0;
}

int staged_activate(session& s) {
  return print_result(s, s.call(http::verb::post, "/api/v1/staged/activate"),
                      "staged changes activated");
}

int staged_discard(session& s) {
  return print_result(s, s.call(http::verb::delete_, "/api/v1/staged"), "staged changes discarded");
}

int backup_export(session& s, const std::string& file) {
  auto r = s.call(http::verb::get, "/api/v1/backup");
  if (!r)
    return fail(r.err());
  if (file.empty() || file == "-")
    return print_json(*r);
  if (auto w = env::write_file_atomic(file, r->dump(2) + "\n", 0600); !w)
    return fail(w.err());
  std::cout << "domain version " << r->value("version", 0) << " written to " << file << '\n';
  return 0;
}

int backup_import(session& s, const std::string& file) {
  auto text = env::read_file(file);
  if (!text)
    return fail(text.err());
  auto doc = parse_json(*text);
  if (!doc)
    return fail(doc.err());
  return print_result(s, s.call(http::verb::post, "/api/v1/backup", *doc), "backup imported");
}

int login(session& s, const std::string& user, const std::string& password_file) {
  std::string password;
  if (!password_file.empty()) {
    auto text = env::read_file(password_file);
    if (!text)
      return fail(text.err());
    password = text->substr(0, text->find('\n'));
  } else {
    std::cerr << "Password: ";
    std::getline(std::cin, password);
  }
  auto r = s.call_public(http::verb::post, "/api/v1/login",
                         json{{"user", user}, {"password", password}});
  if (!r)
    return fail(r.err());
  std::string path = saved_token_path();
  (void)env::make_directories(path.substr(0, path.rfind('/')), 0700);
  if (auto w = env::write_file_atomic(path, r->value("token", "") + "\n", 0600); !w)
    return fail(w.err());
  std::cout << "logged in as " << user << "; token saved in " << path << '\n';
  return 0;
}

}  // namespace vcube::cli
