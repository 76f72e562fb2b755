// vm_executor: runs the VMs the domain assigns to this node. Starts QEMU
// from a VM's domain value, performs the actions of the API (start, ACPI
// shutdown, reboot, reset, power off, pause, resume, cdrom), re-attaches at
// start-up to every QEMU that outlived an earlier vcubed, and reports what
// runs here as vm_status objects in the domain (vm_report.h).
//
// Threading: everything on the io_context's thread. Blocking work (files,
// taps, the KVM probe) runs on the context's slow_work pool.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/asio.h"
#include "daemon/context.h"
#include "daemon/vm_report.h"
#include "daemon/vm_spec.h"
#include "qemu/vm_process.h"

namespace vcube::daemon {

// What the executor needs from the rest of the node, replaceable in tests.
struct vm_host_hooks {
  // The tap device of every NIC of VM `name`, created and attached to its
  // network; nic_networks[i] is NIC i's network (name, domain value).
  std::function<result<std::vector<std::string>>(
      const std::string& name, const std::vector<std::pair<std::string, json>>& nic_networks)>
      create_taps;
  std::function<void(const std::string& name)> remove_taps;
  // "auto" | "kvm" | "tcg" → "kvm" | "tcg" (may probe; runs off the loop).
  std::function<result<std::string>(const std::string& requested)> resolve_accel;
};

struct vm_action_options {
  std::chrono::seconds shutdown_timeout{120};  // ACPI shutdown, then "not responding"
  std::string iso;                             // cdrom_insert
};

class vm_executor {
 public:
  static constexpr std::chrono::seconds start_timeout{60};
  static constexpr std::chrono::seconds command_timeout{15};
  static constexpr std::chrono::seconds report_interval{5};
  // An HA stop (the manager moves the VM or wants it stopped): ACPI first,
  // then power off.
  static constexpr std::chrono::seconds ha_stop_timeout{60};

  vm_executor(asio::io_context& io, context& ctx, vm_host_paths paths, vm_host_hooks hooks);
  ~vm_executor();

  // Re-attaches to the QEMUs in the run directory, then reports every
  // report_interval and whenever something changes.
  void start();
  // Stops reporting and closes every QMP connection; running VMs keep running.
  void stop();

  // start | shutdown | reboot | reset | poweroff | pause | resume |
  // cdrom_insert | cdrom_eject on VM `name`, which the domain assigns to this
  // node. Returns the VM's status as vm_status shows it.
  awaitable<result<json>> act(std::string name, std::string action, vm_action_options options);

  // The domain changed: report again (a VM may have been deleted) and follow
  // the HA manager's records.
  // The eSAN disks of the VMs that run here or have an action (a start) running.
  std::set<std::string> esan_disks_in_use() const;

  void on_domain_changed() {
    request_report();
    follow_ha();
  }

 private:
  struct entry {
    std::unique_ptr<qemu::vm_process> process;  // null when not running
    local_vm view;
    bool is_busy = false;  // an action is running
  };

  awaitable<void> attach_all();
  awaitable<void> attach_one(std::string name);
  awaitable<result<json>> run_action(std::string name, std::string action,
                                     vm_action_options options);
  awaitable<status> start_vm(const std::string& name);
  awaitable<status> shutdown_vm(const std::string& name, std::chrono::seconds timeout);
  awaitable<status> power_off_vm(const std::string& name);
  awaitable<status> change_cdrom(const std::string& name, const std::string& iso);
  void adopt(const std::string& name, std::unique_ptr<qemu::vm_process> process);
  void on_process_change(const std::string& name);
  void release_if_gone(const std::string& name);
  void request_report();
  void forget_deleted();
  awaitable<void> report_loop();
  json status_of(const std::string& name) const;
  // vm_executor_ha.cc: the HA follower (docs/ha.md, "The executor").
  void follow_ha();
  void follow_one(const std::string& name, const domain::object& record);
  void settle(const std::string& name, int64_t epoch);
  awaitable<void> ha_start(std::string name, int64_t epoch);
  awaitable<void> ha_stop(std::string name, int64_t epoch);
  awaitable<void> ha_fence_local(std::string name);
  bool is_running(const std::string& name) const;
  status prepare_files(const std::string& name, const json& vm);

  asio::io_context& io_;
  context& ctx_;
  vm_host_paths paths_;
  vm_host_hooks hooks_;
  std::map<std::string, entry> vms_;
  asio::steady_timer report_timer_;
  bool is_stopped_ = false;
  bool is_report_requested_ = false;
  node_resources resources_ = local_resources();
};

}  // namespace vcube::daemon
