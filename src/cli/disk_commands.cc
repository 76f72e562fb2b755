#include "cli/disk_commands.h"

#include <chrono>
#include <iostream>
#include <thread>

#include "cli/table.h"

namespace vcube::cli {
namespace {

constexpr auto verify_wait = std::chrono::minutes(30);

std::string mib_text(int64_t mib) {
  if (mib >= 1024 && mib % 1024 == 0)
    return std::to_string(mib / 1024) + " GiB";
  return std::to_string(mib) + " MiB";
}

std::string bytes_text(int64_t bytes) {
  if (bytes >= (int64_t(1) << 30))
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (int64_t(1) << 20))
    return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " B";
}

std::string nodes_text(const json& disk) {
  std::string out;
  for (const auto& n : disk.value("nodes", json::array()))
    out += (out.empty() ? "" : ",") + n.get<std::string>();
  return out;
}

std::string verify_text(const json& verify) {
  if (!verify.is_object())
    return "never";
  std::string state = verify.value("state", "idle");
  if (state == "running")
    return "running " + std::to_string(verify.value("percent", 0)) + "%";
  if (state == "done")
    return verify.value("differing_regions", 0) == 0
               ? "done: both sides equal"
               : "done: " + std::to_string(verify.value("differing_regions", 0)) +
                     " regions differ (" + bytes_text(verify.value("differing_bytes", 0)) + ")";
  return state;
}

int print_json(const json& j) {
  std::cout << j.dump(2) << '\n';
  return 0;
}

int disk_list(session& s) {
  auto r = s.call(http::verb::get, "/api/v1/disks");
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json((*r)["items"]);
  render_disk_list((*r)["items"], std::cout);
  return 0;
}

int disk_show(session& s, const std::string& name) {
  auto r = s.call(http::verb::get, "/api/v1/disks/" + name);
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  render_disk(*r, std::cout);
  return 0;
}

int disk_post(session& s, const std::string& target, json body, const std::string& done) {
  auto r = s.call(http::verb::post, target, std::move(body));
  if (!r)
    return fail(r.err());
  if (s.is_json())
    return print_json(*r);
  std::cout << done << '\n';
  return 0;
}

// Asks for a verify, then waits for the first node's result.
int disk_verify(session& s, const std::string& name) {
  auto r = s.call(http::verb::post, "/api/v1/disks/" + name + "/verify", json::object());
  if (!r)
    return fail(r.err());
  int64_t request = r->value("verify_request", int64_t(0));
  auto until = std::chrono::steady_clock::now() + verify_wait;
  while (std::chrono::steady_clock::now() < until) {
    auto disk = s.call(http::verb::get, "/api/v1/disks/" + name);
    if (!disk)
      return fail(disk.err());
    json first = (*disk)["sides"].empty() ? json() : (*disk)["sides"][0];
    json verify = first.is_object() ? first.value("verify", json()) : json();
    std::string state = verify.is_object() ? verify.value("state", "") : "";
    if (first.is_object() && first.value("verify_done", int64_t(0)) >= request &&
        (state == "done" || state == "failed")) {
      if (s.is_json())
        return print_json(verify);
      std::cout << "disk " << name << " verify " << verify_text(verify) << '\n';
      for (const auto& offset : verify.value("first_differences", json::array()))
        std::cout << "  differs at byte " << offset.dump() << '\n';
      return state == "done" && verify.value("differing_regions", 0) == 0 ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // polling the API, bounded
  }
  return fail(make_error(errc::timeout, "the verify of disk " + name +
                                            " did not finish within 30 minutes; `vcube disk show " +
                                            name + "` shows its progress"));
}

}  // namespace

result<int64_t> parse_size_mib(const std::string& text) {
  auto bad =
      make_error(errc::invalid_input,
                 "--size " + text + ": expected a size like 512M, 10G or 2T (MiB without a unit)");
  if (text.empty())
    return bad;
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 12)
    return bad;
  int64_t n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit.empty() || unit == "M" || unit == "MiB")
    return n;
  if (unit == "G" || unit == "GiB")
    return n * 1024;
  if (unit == "T" || unit == "TiB")
    return n * 1024 * 1024;
  return bad;
}

void render_disk_list(const json& items, std::ostream& out) {
  table t({"NAME", "SIZE", "NODES", "STATE", "USED BY"});
  for (const auto& d : items)
    t.add({d.value("name", ""), mib_text(d.value("size_mib", int64_t(0))), nodes_text(d),
           d.value("state", ""), d.value("used_by", "")});
  t.print(out);
}

void render_disk(const json& disk, std::ostream& out) {
  int64_t rate = disk.value("rate_mib", int64_t(0));
  out << "name      " << disk.value("name", "") << "\nsize      "
      << mib_text(disk.value("size_mib", int64_t(0))) << "\nnodes     " << nodes_text(disk)
      << "\nport      " << disk.value("port", 0) << "\nrate      "
      << (rate == 0 ? "unlimited" : std::to_string(rate) + " MiB/s") << "\nstate     "
      << disk.value("state", "") << "\nused by   "
      << (disk.value("used_by", "").empty() ? "-" : disk.value("used_by", "")) << '\n';
  if (std::string outdated = disk.value("outdated", ""); !outdated.empty())
    out << "outdated  " << outdated
        << " (the other node wrote without it; usable again once resynced)\n";
  table t({"NODE", "ROLE", "CONNECTED", "DISK", "OUT OF SYNC", "VERIFY", "MESSAGE"});
  for (const auto& side : disk.value("sides", json::array()))
    t.add({side.value("node", ""), side.value("role", "-"),
           side.contains("connected") ? (side.value("connected", false) ? "yes" : "no") : "-",
           side.value("disk_state", "unknown") +
               (side.value("disk_state", "") == "SyncTarget" ||
                        side.value("disk_state", "") == "SyncSource"
                    ? " " + std::to_string(side.value("percent", 0)) + "%"
                    : ""),
           bytes_text(side.value("out_of_sync_bytes", int64_t(0))),
           verify_text(side.value("verify", json())), side.value("message", "")});
  out << '\n';
  t.print(out);
}

void add_disk_commands(CLI::App& app, global_options& g, int& code) {
  static std::string name, size, nodes, description, discard, import;
  static int64_t rate_mib = 0;
  auto* disk =
      app.add_subcommand("disk", "eSAN disks (mirrored between two nodes)")->require_subcommand(1);
  disk->add_subcommand("list", "list eSAN disks and their state")->callback([&g, &code] {
    session s(g);
    code = disk_list(s);
  });
  auto* show = disk->add_subcommand("show", "show an eSAN disk and both sides' state");
  show->add_option("name", name)->required();
  show->callback([&g, &code] {
    session s(g);
    code = disk_show(s, name);
  });
  auto* create = disk->add_subcommand("create", "create an eSAN disk on two nodes");
  create->add_option("name", name)->required();
  create->add_option("--size", size, "512M, 10G, 2T …")->required();
  create->add_option("--nodes", nodes, "NODE1,NODE2: the two nodes that hold it")->required();
  create->add_option("--rate", rate_mib, "resync rate in MiB/s (0: unlimited, the default)");
  create->add_option("--import", import,
                     "IMAGE[,format=qcow2]: start from this image in the first node's image "
                     "directory (the second node receives it in a full sync)");
  create->add_option("--description", description);
  create->callback([&g, &code] {
    session s(g);
    auto mib = parse_size_mib(size);
    if (!mib) {
      code = fail(mib.err());
      return;
    }
    auto comma = nodes.find(',');
    if (comma == std::string::npos) {
      code = fail(make_error(errc::invalid_input, "--nodes: expected NODE1,NODE2"));
      return;
    }
    json body = {{"name", name},
                 {"size_mib", *mib},
                 {"nodes", {nodes.substr(0, comma), nodes.substr(comma + 1)}},
                 {"rate_mib", rate_mib}};
    if (!description.empty())
      body["description"] = description;
    if (!import.empty()) {
      auto comma = import.find(",format=");
      body["import"] = {{"image", import.substr(0, comma)},
                        {"format", comma == std::string::npos ? "raw" : import.substr(comma + 8)}};
    }
    code = disk_post(s, "/api/v1/disks", body, "disk " + name + " created");
  });
  auto* resize = disk->add_subcommand("resize", "grow an eSAN disk (a VM sees it after a restart)");
  resize->add_option("name", name)->required();
  resize->add_option("--size", size, "the new size: 20G …")->required();
  resize->callback([&g, &code] {
    session s(g);
    auto mib = parse_size_mib(size);
    code = mib ? disk_post(s, "/api/v1/disks/" + name + "/resize", {{"size_mib", *mib}},
                           "disk " + name + " grows to " + mib_text(*mib))
               : fail(mib.err());
  });
  auto* rate = disk->add_subcommand("rate", "set the resync rate of an eSAN disk");
  rate->add_option("name", name)->required();
  rate->add_option("mib_per_s", rate_mib, "MiB/s, 0: unlimited")->required();
  rate->callback([&g, &code] {
    session s(g);
    code = disk_post(s, "/api/v1/disks/" + name + "/rate", {{"rate_mib", rate_mib}},
                     "disk " + name + " resync rate set");
  });
  auto* del = disk->add_subcommand("delete", "delete an eSAN disk and its data on both nodes");
  del->add_option("name", name)->required();
  del->callback([&g, &code] {
    session s(g);
    auto r = s.call(http::verb::delete_, "/api/v1/disks/" + name);
    code = r ? (std::cout << "disk " << name << " deleted\n", 0) : fail(r.err());
  });
  auto* verify = disk->add_subcommand("verify", "compare both sides of an eSAN disk (online)");
  verify->add_option("name", name)->required();
  verify->callback([&g, &code] {
    session s(g);
    code = disk_verify(s, name);
  });
  auto* resolve =
      disk->add_subcommand("resolve-split-brain",
                           "end a split brain: discard one node's changes, resync from the other");
  resolve->add_option("name", name)->required();
  resolve->add_option("--discard", discard, "the node whose data is discarded")->required();
  resolve->callback([&g, &code] {
    session s(g);
    code = disk_post(s, "/api/v1/disks/" + name + "/resolve-split-brain", {{"discard", discard}},
                     "disk " + name + ": " + discard +
                         "'s changes will be discarded; it resyncs from the other node");
  });
  auto* clear = disk->add_subcommand(
      "clear-outdated",
      "let an outdated copy be used again when the up-to-date node is gone for good (its "
      "later writes are lost)");
  clear->add_option("name", name)->required();
  clear->callback([&g, &code] {
    session s(g);
    code = disk_post(s, "/api/v1/disks/" + name + "/clear-outdated", json::object(),
                     "disk " + name + ": its outdated copy may be used again");
  });
}

}  // namespace vcube::cli
