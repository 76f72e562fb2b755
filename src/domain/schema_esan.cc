// The schemas of the eSAN kinds: esan_disk (a mirrored disk: its size, its two
// nodes, its replication port) and esan_status (what one of its nodes reports
// about it). See docs/esan.md, "In the cluster".
#include <algorithm>
#include <regex>

#include "domain/schema_checker.h"

namespace vcube::domain::detail {
namespace {

constexpr int64_t esan_size_mib_max = int64_t(64) << 20;  // 64 TiB
constexpr int64_t rate_mib_max = 100000;
constexpr size_t first_differences_max = 16;

bool is_in(const std::string& s, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return s == a; });
}

bool is_disk_state(const std::string& s) {
  return is_in(s, {"UpToDate", "Inconsistent", "SyncSource", "SyncTarget", "SplitBrain", "unknown",
                   "Detached"});
}

status check_nodes_pair(const checker& c) {
  const json* nodes = c.get("nodes");
  if (!nodes)
    return c.fail("nodes", "nodes is required (the two nodes that hold the disk)");
  if (!nodes->is_array() || nodes->size() != 2 || !(*nodes)[0].is_string() ||
      !(*nodes)[1].is_string())
    return c.fail("nodes", "nodes must be an array of exactly two node names");
  std::string a = (*nodes)[0].get<std::string>(), b = (*nodes)[1].get<std::string>();
  if (!is_plain_name(a) || !is_plain_name(b))
    return c.fail("nodes", "nodes must be an array of exactly two node names");
  if (a == b)
    return c.fail("nodes", "nodes must name two different nodes (got \"" + a + "\" twice)");
  return ok_status();
}

status check_verify(const checker& c) {
  const json* v = c.get("verify");
  if (!v)
    return ok_status();
  if (!v->is_object())
    return c.fail("verify", "verify must be an object");
  checker r(c.kind(), c.name(), *v, "verify.");
  const json* first = r.get("first_differences");
  if (first && (!first->is_array() || first->size() > first_differences_max ||
                !std::all_of(first->begin(), first->end(), [](const json& o) {
                  return o.is_number_integer() && o.get<int64_t>() >= 0;
                })))
    return r.fail("first_differences",
                  "first_differences must be an array of at most 16 byte offsets");
  return first_error({
      r.one_of(
          "state",
          [](const std::string& s) {
            return is_in(s, {"idle", "running", "done", "failed"});
          },
          "idle, running, done or failed"),
      r.integer("percent", 0, 100),
      r.integer("differing_regions", 0, INT64_MAX),
      r.integer("differing_bytes", 0, INT64_MAX),
      r.only({"state", "percent", "differing_regions", "differing_bytes", "first_differences"}),
  });
}

}  // namespace

status validate_esan_disk(const checker& c) {
  static const std::regex generation_pattern("[0-9a-f]{16}");
  if (c.name().find('.') != std::string_view::npos)
    return c.fail("name", "an eSAN disk name has no '.' (a-z 0-9 _ -)");
  const json* resolve = c.get("resolve");
  status resolve_ok = ok_status();
  if (resolve) {
    if (!resolve->is_object()) {
      resolve_ok = c.fail("resolve", "resolve must be an object {discard, at}");
    } else {
      checker r(c.kind(), c.name(), *resolve, "resolve.");
      resolve_ok = first_error({
          r.required("discard"),
          r.one_of(
              "discard", [](const std::string& s) { return is_plain_name(s); }, "a node name"),
          r.required("at"),
          r.integer("at", 1, INT64_MAX),
          r.only({"discard", "at"}),
      });
    }
  }
  const json* import = c.get("import");
  status import_ok = ok_status();
  if (import) {
    if (!import->is_object()) {
      import_ok = c.fail("import", "import must be an object {image, format}");
    } else {
      checker i(c.kind(), c.name(), *import, "import.");
      import_ok = first_error({
          i.required("image"),
          i.one_of("image", is_image_name,
                   "a file name in the first node's image directory (/var/lib/vcube/images)"),
          i.one_of(
              "format", [](const std::string& s) { return s == "raw" || s == "qcow2"; },
              "raw or qcow2"),
          i.only({"image", "format"}),
      });
    }
  }
  // Fencing: the node whose copy the other wrote without (docs/esan.md).
  status outdated_ok = c.one_of(
      "outdated", [](const std::string& s) { return is_plain_name(s); }, "a node name");
  const json* outdated = c.get("outdated");
  const json* nodes = c.get("nodes");
  if (outdated_ok && outdated && nodes && nodes->is_array() &&
      std::find(nodes->begin(), nodes->end(), *outdated) == nodes->end())
    outdated_ok = c.fail("outdated", "outdated names one of the disk's two nodes");
  return first_error({
      c.required("size_mib"),
      c.integer("size_mib", 1, esan_size_mib_max),
      check_nodes_pair(c),
      c.required("port"),
      c.integer("port", 1024, 65535),
      c.required("generation"),
      c.one_of(
          "generation",
          [](const std::string& s) {
            return std::regex_match(s, generation_pattern) && s != std::string(16, '0');
          },
          "16 lower-case hex digits, not all zero"),
      c.integer("rate_mib", 0, rate_mib_max),
      c.integer("verify_request", 0, INT64_MAX),
      c.integer("outdated_at", 0, INT64_MAX),
      resolve_ok,
      import_ok,
      outdated_ok,
      c.text("description"),
      c.only({"size_mib", "nodes", "port", "generation", "rate_mib", "verify_request", "resolve",
              "import", "outdated", "outdated_at", "description"}),
  });
}

status validate_esan_status(const checker& c) {
  auto role = [](const std::string& s) { return is_in(s, {"primary", "secondary", "unknown"}); };
  const json* disk = c.get("disk");
  const json* node = c.get("node");
  if (disk && node && disk->is_string() && node->is_string() &&
      c.name() != disk->get<std::string>() + "." + node->get<std::string>())
    return c.fail("name", "an esan_status is named <disk>.<node>");
  return first_error({
      c.required("disk"),
      c.one_of(
          "disk", [](const std::string& s) { return is_plain_name(s); }, "a disk name"),
      c.required("node"),
      c.one_of(
          "node", [](const std::string& s) { return is_plain_name(s); }, "a node name"),
      c.one_of("role", role, "primary, secondary or unknown"),
      c.one_of("peer_role", role, "primary, secondary or unknown"),
      c.boolean("connected"),
      c.boolean("attached"),
      c.boolean("suspended"),
      c.one_of("disk_state", is_disk_state, "an eSAN disk state"),
      c.one_of("peer_disk_state", is_disk_state, "an eSAN disk state"),
      c.integer("percent", 0, 100),
      c.integer("size_bytes", 0, INT64_MAX),
      c.integer("out_of_sync_bytes", 0, INT64_MAX),
      c.integer("resynced_bytes", 0, INT64_MAX),
      c.integer("nbd_clients", 0, INT64_MAX),
      c.text("message"),
      check_verify(c),
      c.integer("verify_done", 0, INT64_MAX),
      c.integer("resolve_done", 0, INT64_MAX),
      c.integer("at", 0, INT64_MAX),
      c.only({"disk", "node", "role", "peer_role", "connected", "attached", "suspended",
              "disk_state", "peer_disk_state", "percent", "size_bytes", "out_of_sync_bytes",
              "resynced_bytes", "nbd_clients", "message", "verify", "verify_done", "resolve_done",
              "at"}),
  });
}

}  // namespace vcube::domain::detail
