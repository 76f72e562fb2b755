// vm_process: one VM's daemonized qemu-system-x86_64, driven over QMP.
// start() launches QEMU from a vm_definition; attach() reconnects to a QEMU
// that outlived an earlier vcubed (run directory: pid file + QMP socket).
// Either way QEMU outlives this object: destroying it only closes QMP.
//
// Threading: one io_context thread; every call on that executor. start()
// runs QEMU's foreground half (until it daemonizes) on a small internal
// thread pool, so the caller's event loop keeps running meanwhile.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/error.h"
#include "qemu/qmp_client.h"
#include "qemu/vm_definition.h"
#include "qemu/vm_state.h"
#include "qemu/vm_watch.h"

namespace vcube::qemu {

struct vm_start_options {
  std::string binary = "qemu-system-x86_64";
  std::chrono::milliseconds launch_timeout{30000};  // until QEMU has daemonized
};

class vm_process {
 public:
  // Writes run_dir, runs QEMU (it daemonizes; a non-zero exit is an error
  // quoting its stderr), reads the pid file and connects QMP by `deadline`.
  // Errors: invalid_input (the definition), conflict (a QEMU already runs in
  // run_dir), internal (QEMU refused to start), unavailable/timeout (QMP).
  static awaitable<result<std::unique_ptr<vm_process>>> start(const vm_definition& vm,
                                                              qmp_clock::time_point deadline,
                                                              vm_start_options options = {});
  // Reconnects to the QEMU whose pid file and QMP socket are in run_dir.
  // Errors: not_found (no live QEMU of this run_dir), unavailable/timeout (QMP).
  static awaitable<result<std::unique_ptr<vm_process>>> attach(std::string run_dir,
                                                               qmp_clock::time_point deadline);
  ~vm_process();
  vm_process(const vm_process&) = delete;
  vm_process& operator=(const vm_process&) = delete;

  int pid() const { return watch_->pid(); }
  const std::string& run_dir() const { return run_dir_; }
  // Last known state; checks the pid first, so a silently killed QEMU reads
  // as crashed even before QMP's EOF has been processed.
  vm_run_state state();
  const std::string& reason() const { return watch_->tracker().reason(); }
  // Called on every change of state() or reason() seen from QMP events,
  // query-status or the process ending (also with nobody polling state()).
  void set_on_change(vm_change_handler handler) { watch_->set_on_change(std::move(handler)); }

  // query-status; updates state() and returns QEMU's status string.
  awaitable<result<std::string>> query_status(qmp_clock::time_point deadline);
  awaitable<status> powerdown(qmp_clock::time_point deadline);  // ACPI power button
  awaitable<status> reset(qmp_clock::time_point deadline);      // hard reset
  awaitable<status> power_off(qmp_clock::time_point deadline);  // quit: QEMU exits
  awaitable<status> pause(qmp_clock::time_point deadline);      // stop
  awaitable<status> resume(qmp_clock::time_point deadline);     // cont
  // Any other QMP command (blockdev-change-medium, device_del, ...), as qmp_client::execute.
  awaitable<result<json>> execute(std::string name, json arguments, qmp_clock::time_point deadline);
  // Waits until the QEMU process is gone (state stopped or crashed).
  // errc::timeout when it still runs at the deadline.
  awaitable<status> wait_until_gone(qmp_clock::time_point deadline);

 private:
  vm_process(std::string run_dir, int pid);
  awaitable<status> connect(qmp_clock::time_point deadline);
  awaitable<status> simple_command(const char* name, qmp_clock::time_point deadline);

  std::string run_dir_;
  std::shared_ptr<vm_watch> watch_;
  std::shared_ptr<qmp_client> qmp_;
};

// True when `pid` is a live (not zombie) process whose command line names
// `pid_file` — so a recycled pid is not mistaken for our QEMU.
bool is_qemu_alive(int pid, const std::string& pid_file);

}  // namespace vcube::qemu
