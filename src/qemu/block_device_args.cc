#include "qemu/block_device_args.h"

#include <cstdlib>

#include "qemu/command_line.h"
#include "qemu/nbd_uri.h"
#include "qemu/syntax.h"

namespace vcube::qemu {
namespace {

// How a cache mode splits over QEMU's three knobs (the table in qemu(1) under
// -drive cache=): host page cache bypass and flush handling on the block
// nodes, the guest-visible write cache on the device.
struct cache_flags {
  bool is_direct;
  bool is_no_flush;
  bool has_write_cache;
};

cache_flags cache_flags_for(const std::string& mode) {
  if (mode == "none")
    return {true, false, true};
  if (mode == "writeback")
    return {false, false, true};
  if (mode == "writethrough")
    return {false, false, false};
  if (mode == "directsync")
    return {true, false, false};
  if (mode == "unsafe")
    return {false, true, true};
  std::abort();  // validate() admits only the modes above; this is a programmer error
}

const char* on_off(bool value) {
  return value ? "on" : "off";
}

std::string node_options(const cache_flags& cache, bool is_readonly) {
  return std::string(",cache.direct=") + on_off(cache.is_direct) +
         ",cache.no-flush=" + on_off(cache.is_no_flush) + ",read-only=" + on_off(is_readonly);
}

std::string storage_node(const std::string& source, const std::string& node_name,
                         uint32_t reconnect_delay_s) {
  if (!is_nbd_uri(source))
    return "driver=file,node-name=" + node_name + ",filename=" + escape_option_value(source);
  auto parsed = parse_nbd_uri(source);
  if (!parsed)
    std::abort();  // validate() parsed it already; this is a programmer error
  const nbd_address& nbd = *parsed;
  std::string text = "driver=nbd,node-name=" + node_name;
  if (nbd.is_unix) {
    text += ",server.type=unix,server.path=" + escape_option_value(nbd.socket_path);
  } else {
    text +=
        ",server.type=inet,server.host=" + nbd.host + ",server.port=" + std::to_string(nbd.port);
  }
  if (!nbd.export_name.empty())
    text += ",export=" + escape_option_value(nbd.export_name);
  if (reconnect_delay_s > 0)
    text += ",reconnect-delay=" + std::to_string(reconnect_delay_s);
  return text;
}

void append_nodes(const std::string& source, uint32_t reconnect_delay_s, const std::string& format,
                  const std::string& id, const cache_flags& cache, bool is_readonly,
                  std::vector<std::string>& args) {
  const std::string options = node_options(cache, is_readonly);
  args.push_back("-blockdev");
  args.push_back(storage_node(source, id + "-storage", reconnect_delay_s) + options);
  args.push_back("-blockdev");
  args.push_back("driver=" + format + ",node-name=" + id + "-format,file=" + id + "-storage" +
                 options);
}

std::string boot_suffix(std::optional<int> boot_index) {
  return boot_index ? ",bootindex=" + std::to_string(*boot_index) : std::string();
}

}  // namespace

void append_disk_args(const disk_definition& disk, size_t index, size_t scsi_index,
                      std::optional<int> boot_index, std::vector<std::string>& args) {
  const std::string id = disk_device_id(index);
  const cache_flags cache = cache_flags_for(disk.cache);
  append_nodes(disk.source, disk.nbd_reconnect_delay_s, disk.format, id, cache, disk.is_readonly,
               args);
  std::string device = disk.bus == "virtio-scsi"
                           ? "scsi-hd,id=" + id + ",bus=scsi0.0,channel=0" +
                                 ",scsi-id=" + std::to_string(scsi_index) + ",lun=0"
                           : "virtio-blk-pci,id=" + id;
  device += ",drive=" + id + "-format,write-cache=" + on_off(cache.has_write_cache);
  args.push_back("-device");
  args.push_back(device + boot_suffix(boot_index));
}

void append_cdrom_args(const cdrom_definition& cdrom, std::optional<int> boot_index,
                       std::vector<std::string>& args) {
  const std::string id(cdrom_device_id);
  std::string device = "ide-cd,id=" + id + ",bus=ide.0";
  if (!cdrom.iso_path.empty()) {
    append_nodes(cdrom.iso_path, 0, "raw", id, cache_flags_for("writeback"), true, args);
    device += ",drive=" + id + "-format";
  }
  args.push_back("-device");
  args.push_back(device + boot_suffix(boot_index));
}

void append_scsi_controller_args(std::vector<std::string>& args) {
  args.push_back("-device");
  args.push_back("virtio-scsi-pci,id=scsi0");
}

}  // namespace vcube::qemu
