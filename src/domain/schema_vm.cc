// The schemas of `vm` (a virtual machine's definition) and `vm_status` (what
// the node running it reports). See docs/domain.md.
#include <array>

#include "domain/schema_checker.h"

namespace vcube::domain::detail {
namespace {

constexpr int64_t vcpus_max = 64;
constexpr int64_t memory_mib_min = 64;
constexpr int64_t memory_mib_max = 1048576;
constexpr int64_t disk_size_mib_max = int64_t(16) << 20;  // 16 TiB
constexpr size_t disks_max = 16;
constexpr size_t nics_max = 8;
constexpr size_t cmdline_chars_max = 4096;
constexpr size_t reason_chars_max = 256;

bool is_in(const std::string& s, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return s == a; });
}

bool is_unicast_mac(const std::string& s) {
  if (s.size() != 17)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool is_separator = i % 3 == 2;
    if (is_separator != (s[i] == ':'))
      return false;
    if (!is_separator && !std::isxdigit(static_cast<unsigned char>(s[i])))
      return false;
    if (is_separator == false && (s[i] >= 'A' && s[i] <= 'F'))
      return false;  // one spelling only, so that duplicates compare equal
  }
  int first = std::stoi(s.substr(0, 2), nullptr, 16);
  return (first & 1) == 0 && s != "00:00:00:00:00:00";
}

// Checks one element of an array field with its own checker, then prefixes
// the field with "disks[2]." so the error names the element.
template <class Check>
status each_element(const checker& c, const char* field, size_t max_items, Check check) {
  const json* list = c.get(field);
  if (!list)
    return ok_status();
  if (!list->is_array())
    return c.fail(field, std::string(field) + " must be an array");
  if (list->size() > max_items)
    return c.fail(field,
                  std::string(field) + " has more than " + std::to_string(max_items) + " entries");
  for (size_t i = 0; i < list->size(); ++i) {
    std::string prefix = std::string(field) + "[" + std::to_string(i) + "]";
    const json& item = (*list)[i];
    if (!item.is_object())
      return c.fail(prefix, prefix + " must be an object");
    checker element(c.kind(), c.name(), item, prefix + ".");
    if (auto s = check(element); !s)
      return s;
  }
  return ok_status();
}

// A disk is an image file on the node, or an eSAN disk (`esan`: its name).
status check_disk_source(const checker& d) {
  bool has_image = d.get("image") != nullptr;
  bool has_esan = d.get("esan") != nullptr;
  if (has_image == has_esan)
    return d.fail("image",
                  "image or esan is required (exactly one: a file in the node's image "
                  "directory, or an eSAN disk's name)");
  if (!has_esan)
    return ok_status();
  if (d.get("size_mib"))
    return d.fail("size_mib", "size_mib belongs to image disks; an eSAN disk has its own size");
  return d.one_of(
      "format", [](const std::string& s) { return s == "raw"; }, "raw for an eSAN disk");
}

status check_disk(const checker& d) {
  return first_error({
      check_disk_source(d),
      d.one_of("image", is_image_name,
               "a file name in the node's image directory (/var/lib/vcube/images)"),
      d.one_of(
          "esan", [](const std::string& s) { return is_plain_name(s); }, "an eSAN disk name"),
      d.one_of(
          "format",
          [](const std::string& s) {
            return is_in(s, {"raw", "qcow2"});
          },
          "raw or qcow2"),
      d.one_of(
          "bus",
          [](const std::string& s) {
            return is_in(s, {"virtio-blk", "virtio-scsi"});
          },
          "virtio-blk or virtio-scsi"),
      d.one_of(
          "cache",
          [](const std::string& s) {
            return is_in(s, {"none", "writeback", "writethrough", "directsync", "unsafe"});
          },
          "none, writeback, writethrough, directsync or unsafe"),
      d.integer("size_mib", 1, disk_size_mib_max),
      d.boolean("readonly"),
      d.only({"image", "esan", "format", "bus", "cache", "size_mib", "readonly"}),
  });
}

status check_nic(const checker& n) {
  return first_error({
      n.required("network"),
      n.one_of(
          "network", [](const std::string& s) { return is_plain_name(s); }, "a network name"),
      n.required("mac"),
      n.one_of("mac", is_unicast_mac,
               "a unicast MAC address in lower case, like 52:54:00:12:34:56"),
      n.one_of(
          "model", [](const std::string& s) { return s == "virtio-net"; }, "virtio-net"),
      n.only({"network", "mac", "model"}),
  });
}

status check_kernel(const checker& c) {
  const json* kernel = c.get("kernel");
  if (!kernel)
    return ok_status();
  if (!kernel->is_object())
    return c.fail("kernel", "kernel must be an object");
  checker k(c.kind(), c.name(), *kernel, "kernel.");
  return first_error({
      k.required("kernel"),
      k.one_of("kernel", is_image_name, "a file name in the node's image directory"),
      k.one_of("initrd", is_image_name, "a file name in the node's image directory"),
      k.text("cmdline", cmdline_chars_max),
      k.only({"kernel", "initrd", "cmdline"}),
  });
}

}  // namespace

// A file in the node's image directory: a relative path of plain names
// (no "..", no leading '/', no empty segments).
bool is_image_name(const std::string& s) {
  if (s.empty() || s.size() > image_name_chars_max || s.front() == '/' || s.back() == '/')
    return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string::npos)
      end = s.size();
    std::string_view part(s.data() + start, end - start);
    if (part.empty() || part == "." || part == ".." || part[0] == '.')
      return false;
    bool is_plain = std::all_of(part.begin(), part.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
             c == '+';
    });
    if (!is_plain)
      return false;
    start = end + 1;
  }
  return true;
}

status validate_vm(const checker& c) {
  return first_error({
      c.required("vcpus"),
      c.integer("vcpus", 1, vcpus_max),
      c.required("memory_mib"),
      c.integer("memory_mib", memory_mib_min, memory_mib_max),
      c.one_of(
          "machine",
          [](const std::string& s) {
            return is_in(s, {"q35", "pc"});
          },
          "q35 or pc"),
      c.one_of(
          "acceleration",
          [](const std::string& s) {
            return is_in(s, {"auto", "kvm", "tcg"});
          },
          "auto, kvm or tcg"),
      each_element(c, "disks", disks_max, check_disk),
      each_element(c, "nics", nics_max, check_nic),
      c.one_of(
          "cdrom", [](const std::string& s) { return s.empty() || is_image_name(s); },
          "an ISO file name in the node's image directory, or \"\" for an empty drive"),
      c.list(
          "boot_order",
          [](const std::string& s) {
            return is_in(s, {"disk", "cdrom", "network"});
          },
          "disk, cdrom or network"),
      check_kernel(c),
      c.required("node"),
      c.one_of(
          "node", [](const std::string& s) { return is_plain_name(s); }, "a node name"),
      c.text("description"),
  });
}

status validate_vm_status(const checker& c) {
  return first_error({
      c.required("node"),
      c.one_of(
          "node", [](const std::string& s) { return is_plain_name(s); }, "a node name"),
      c.required("state"),
      c.one_of(
          "state",
          [](const std::string& s) {
            return is_in(s, {"running", "paused", "stopped", "crashed"});
          },
          "running, paused, stopped or crashed"),
      c.text("reason", reason_chars_max),
      c.integer("since", 0, INT64_MAX),
      c.integer("started_at", 0, INT64_MAX),
      c.boolean("not_responding"),
      c.integer("ha_epoch", 0, INT64_MAX),
      c.one_of(
          "accel",
          [](const std::string& s) {
            return is_in(s, {"kvm", "tcg"});
          },
          "kvm or tcg"),
  });
}

}  // namespace vcube::domain::detail
