#include "daemon/vm_executor.h"

#include <dirent.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/time.h"
#include "daemon/esan_agent.h"
#include "daemon/off_loop.h"
#include "domain/rules.h"
#include "env/files.h"
#include "env/process.h"
#include "qemu/command_line.h"

namespace vcube::daemon {
namespace {

qemu::qmp_clock::time_point after(std::chrono::seconds s) {
  return qemu::qmp_clock::now() + s;
}

std::string state_word(qemu::vm_run_state s) {
  switch (s) {
    case qemu::vm_run_state::paused:
      return "paused";
    case qemu::vm_run_state::stopped:
      return "stopped";
    case qemu::vm_run_state::crashed:
      return "crashed";
    default:
      return "running";  // shutting_down: QEMU still runs
  }
}

bool is_active(const std::string& state) {
  return domain::is_vm_state_active(state);
}

std::vector<std::string> run_dir_names(const std::string& runs_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(runs_dir, ec))
    if (e.is_directory())
      out.push_back(e.path().filename().string());
  return out;
}

// Creates missing disk images that have a size; every other file must exist.
status check_or_create(const std::string& vm_name, const std::string& node,
                       const std::vector<vm_file>& files) {
  for (const auto& f : files) {
    if (env::file_exists(f.path))
      continue;
    if (f.create_size_mib == 0)
      return make_error(errc::not_found, "vm '" + vm_name + "': " + f.path +
                                             " does not exist on node '" + node + "'");
    auto dir = std::filesystem::path(f.path).parent_path().string();
    if (auto s = env::make_directories(dir, 0750); !s)
      return s;
    auto created = env::run_checked({"qemu-img", "create", "-q", "-f", f.format, f.path,
                                     std::to_string(f.create_size_mib) + "M"});
    if (!created)
      return created.err();
    spdlog::info("vm {}: created {} ({} MiB)", vm_name, f.path, f.create_size_mib);
  }
  return ok_status();
}

}  // namespace

vm_executor::vm_executor(asio::io_context& io, context& ctx, vm_host_paths paths,
                         vm_host_hooks hooks)
    : io_(io), ctx_(ctx), paths_(std::move(paths)), hooks_(std::move(hooks)), report_timer_(io) {}

vm_executor::~vm_executor() = default;

void vm_executor::start() {
  if (auto s = env::make_directories(paths_.runs_dir, 0750); !s)
    spdlog::error("vm run directory: {}", s.err().message);
  asio::co_spawn(io_, attach_all(), asio::detached);
}

void vm_executor::stop() {
  is_stopped_ = true;
  report_timer_.cancel();
  // Closes QMP only: every QEMU keeps running for the next vcubed.
  for (auto& [name, e] : vms_)
    e.process.reset();
}

awaitable<void> vm_executor::attach_all() {
  for (const auto& name : run_dir_names(paths_.runs_dir))
    co_await attach_one(name);
  follow_ha();
  co_await report_loop();
}

awaitable<void> vm_executor::attach_one(std::string name) {
  // Arguments are named: GCC 12 destroys class temporaries in co_await twice.
  std::string run_dir = vm_run_dir(paths_, name);
  auto process = co_await qemu::vm_process::attach(std::move(run_dir), after(command_timeout));
  auto status = ctx_.domain.state().get("vm_status", name);
  if (process) {
    spdlog::info("vm {}: re-attached to QEMU pid {}", name, (*process)->pid());
    entry& e = vms_[name];
    e.view.started_at = status ? status->value.value("started_at", int64_t(0)) : 0;
    e.view.accel = status ? status->value.value("accel", "") : "";
    e.view.since = unix_now_s();
    adopt(name, std::move(*process));
    co_return;
  }
  if (status && status->value.value("node", "") == ctx_.node.name &&
      is_active(status->value.value("state", ""))) {
    spdlog::warn("vm {}: QEMU died while vcubed was not running", name);
    vms_[name].view = local_vm{
        "crashed", "crash: QEMU died while vcubed was not running", unix_now_s(), 0, false, "", 0};
  }
}

// Takes over a started or attached QEMU: its state changes update the view
// and are reported.
void vm_executor::adopt(const std::string& name, std::unique_ptr<qemu::vm_process> process) {
  entry& e = vms_[name];
  e.process = std::move(process);
  e.process->set_on_change(
      [this, name](qemu::vm_run_state, const std::string&) { on_process_change(name); });
  on_process_change(name);
}

void vm_executor::on_process_change(const std::string& name) {
  auto it = vms_.find(name);
  if (it == vms_.end() || !it->second.process)
    return;
  entry& e = it->second;
  auto state = e.process->state();
  std::string word = state_word(state);
  std::string reason = state == qemu::vm_run_state::crashed
                           ? "crash: " + e.process->reason()
                           : describe_stop_reason(e.process->reason());
  if (word != e.view.state || (!is_active(word) && reason != e.view.reason)) {
    e.view.state = word;
    e.view.reason = is_active(word) ? "" : reason;
    e.view.since = unix_now_s();
    if (!is_active(word))
      e.view.is_not_responding = false;
    spdlog::info("vm {}: {}{}", name, word, reason.empty() ? "" : " (" + reason + ")");
  }
  if (!is_active(word) && state != qemu::vm_run_state::shutting_down) {
    // After this callback has returned, and not under a running action.
    asio::post(io_, [this, name] {
      release_if_gone(name);
      follow_ha();
    });
  }
  request_report();
}

// Drops the process object of a VM whose QEMU has ended. Never while an
// action runs: its coroutine may still be suspended inside that object
// (act() calls this again when it is done).
void vm_executor::release_if_gone(const std::string& name) {
  auto found = vms_.find(name);
  if (found == vms_.end() || found->second.is_busy || !found->second.process)
    return;
  auto state = found->second.process->state();
  if (is_active(state_word(state)) || state == qemu::vm_run_state::shutting_down)
    return;
  found->second.process.reset();
  if (hooks_.remove_taps)
    hooks_.remove_taps(name);
}

awaitable<result<json>> vm_executor::act(std::string name, std::string action,
                                         vm_action_options options) {
  auto vm = ctx_.domain.state().get("vm", name);
  if (!vm)
    co_return make_error(errc::not_found, "vm '" + name + "' does not exist");
  std::string node = vm->value.value("node", "");
  if (node != ctx_.node.name)
    co_return make_error(errc::conflict, "vm '" + name + "' is assigned to node '" + node +
                                             "', not to this node ('" + ctx_.node.name + "')");
  entry& e = vms_[name];
  if (e.is_busy)
    co_return make_error(errc::conflict, "vm '" + name + "': another action is in progress");
  e.is_busy = true;
  auto out = co_await run_action(name, action, std::move(options));
  vms_[name].is_busy = false;
  release_if_gone(name);
  request_report();
  follow_ha();
  co_return out;
}

awaitable<result<json>> vm_executor::run_action(std::string name, std::string action,
                                                vm_action_options options) {
  entry& e = vms_[name];
  bool is_running = e.process && is_active(state_word(e.process->state()));
  auto need_running = [&]() -> status {
    if (!is_running)
      return make_error(errc::conflict, "vm '" + name + "' is not running");
    return ok_status();
  };
  status done = ok_status();
  // GCC 12 miscompiles co_await inside conditions: await into statements.
  if (action == "start" && is_running) {
    done = make_error(errc::conflict, "vm '" + name + "' is already running");
  } else if (action == "start") {
    done = co_await start_vm(name);
  } else if (!(done = need_running())) {
  } else if (action == "shutdown") {
    done = co_await shutdown_vm(name, options.shutdown_timeout);
  } else if (action == "reboot") {
    done = co_await shutdown_vm(name, options.shutdown_timeout);
    if (done)
      done = co_await start_vm(name);
  } else if (action == "poweroff") {
    done = co_await power_off_vm(name);
  } else if (action == "reset") {
    done = co_await e.process->reset(after(command_timeout));
  } else if (action == "pause") {
    done = co_await e.process->pause(after(command_timeout));
  } else if (action == "resume") {
    done = co_await e.process->resume(after(command_timeout));
  } else if (action == "cdrom_insert" || action == "cdrom_eject") {
    std::string iso = action == "cdrom_insert" ? options.iso : "";
    done = co_await change_cdrom(name, iso);
  } else {
    done = make_error(errc::not_found, "unknown VM action '" + action + "'");
  }
  if (!done)
    co_return done.err();
  if (auto& p = vms_[name].process)
    (void)co_await p->query_status(after(command_timeout));
  co_return status_of(name);
}

status vm_executor::prepare_files(const std::string& name, const json& vm) {
  return check_or_create(name, ctx_.node.name, vm_files(vm, paths_));
}

awaitable<status> vm_executor::start_vm(const std::string& name) {
  auto vm = ctx_.domain.state().get("vm", name);
  if (!vm)
    co_return make_error(errc::not_found, "vm '" + name + "' does not exist");
  json value = vm->value;
  std::string requested = value.value("acceleration", "auto");
  std::vector<std::pair<std::string, json>> nic_networks;
  for (const auto& nic : value.value("nics", json::array())) {
    std::string network = nic.value("network", "");
    auto found = ctx_.domain.state().get("network", network);
    nic_networks.emplace_back(network, found ? found->value : json::object());
  }
  std::function<result<vm_start_inputs>()> prepare = [this, name, value, requested,
                                                      nic_networks]() -> result<vm_start_inputs> {
    if (auto s = prepare_files(name, value); !s)
      return s.err();
    auto accel = hooks_.resolve_accel(requested);
    if (!accel)
      return accel.err();
    auto taps = hooks_.create_taps(name, nic_networks);
    if (!taps)
      return taps.err();
    return vm_start_inputs{ctx_.node.cluster, *accel, *taps};
  };
  auto prepared = co_await off_loop(*ctx_.slow_work, std::move(prepare));
  if (!prepared)
    co_return prepared.err();
  auto definition = make_vm_definition(name, value, paths_, *prepared);
  if (!definition)
    co_return definition.err();
  // Its eSAN disks become primary here first (the peer's side is demoted
  // once its VM is gone): QEMU's writes need a primary.
  auto disks = esan_disks_of(value);
  if (!disks.empty() && ctx_.esan) {
    auto promoted = co_await ctx_.esan->promote(std::move(disks));
    if (!promoted) {
      hooks_.remove_taps(name);
      co_return promoted;
    }
  }
  // Named: a defaulted class argument is a temporary in the co_await
  // expression, which GCC 12 destroys twice.
  qemu::vm_start_options options;
  auto process = co_await qemu::vm_process::start(*definition, after(start_timeout), options);
  if (!process) {
    hooks_.remove_taps(name);
    co_return process.err();
  }
  entry& e = vms_[name];
  e.view = local_vm{"running", "", unix_now_s(), unix_now_s(), false, prepared->accel, 0};
  spdlog::info("vm {}: started (QEMU pid {}, {})", name, (*process)->pid(), prepared->accel);
  adopt(name, std::move(*process));
  co_return ok_status();
}

awaitable<status> vm_executor::shutdown_vm(const std::string& name, std::chrono::seconds timeout) {
  auto* p = vms_[name].process.get();
  auto pressed = co_await p->powerdown(after(command_timeout));
  if (!pressed)
    co_return pressed;
  auto gone = co_await p->wait_until_gone(after(timeout));
  if (gone)
    co_return ok_status();
  if (gone.err().code != errc::timeout)
    co_return gone;
  vms_[name].view.is_not_responding = true;
  co_return make_error(errc::timeout, "vm '" + name + "' did not shut down within " +
                                          std::to_string(timeout.count()) +
                                          " s; it is marked as not responding. `vcube vm "
                                          "poweroff " +
                                          name + "` turns it off.");
}

awaitable<status> vm_executor::power_off_vm(const std::string& name) {
  auto* p = vms_[name].process.get();
  auto quit = co_await p->power_off(after(command_timeout));
  if (!quit)
    co_return quit;
  co_return co_await p->wait_until_gone(after(command_timeout));
}

awaitable<status> vm_executor::change_cdrom(const std::string& name, const std::string& iso) {
  auto* p = vms_[name].process.get();
  json arguments = {{"id", std::string(qemu::cdrom_device_id)}};
  std::string command = iso.empty() ? "eject" : "blockdev-change-medium";
  if (iso.empty()) {
    arguments["force"] = true;
  } else {
    arguments["filename"] = paths_.images_dir + "/" + iso;
    arguments["format"] = "raw";
    arguments["read-only-mode"] = "read-only";
  }
  auto out = co_await p->execute(std::move(command), std::move(arguments), after(command_timeout));
  if (!out)
    co_return out.err();
  co_return ok_status();
}

json vm_executor::status_of(const std::string& name) const {
  auto it = vms_.find(name);
  local_vm view = it == vms_.end() ? local_vm{"stopped", "", 0, 0, false, "", 0} : it->second.view;
  json out = vm_status_value(ctx_.node.name, view);
  out["name"] = name;
  return out;
}

std::set<std::string> vm_executor::esan_disks_in_use() const {
  std::set<std::string> out;
  for (const auto& [name, e] : vms_) {
    if (!e.is_busy && !e.process)
      continue;
    if (auto vm = ctx_.domain.state().get("vm", name))
      for (auto& disk : esan_disks_of(vm->value))
        out.insert(std::move(disk));
  }
  return out;
}

void vm_executor::request_report() {
  is_report_requested_ = true;
  report_timer_.cancel();
}

// Entries of VMs the domain no longer has, with nothing running or pending.
void vm_executor::forget_deleted() {
  std::erase_if(vms_, [this](const auto& item) {
    const entry& e = item.second;
    return !e.process && !e.is_busy && !ctx_.domain.state().get("vm", item.first);
  });
}

// Reports whenever request_report() cancels the wait, and every
// report_interval (a write refused for quorum or sync is retried then).
awaitable<void> vm_executor::report_loop() {
  while (!is_stopped_) {
    is_report_requested_ = false;
    forget_deleted();
    std::map<std::string, local_vm> local;
    for (const auto& [name, e] : vms_) {
      if (e.view.state.empty())
        continue;
      local_vm view = e.view;
      if (e.is_busy)
        view.ha_epoch = 0;  // nothing is settled while an action runs
      local.emplace(name, view);
    }
    auto changes = status_changes(ctx_.node.name, local, ctx_.domain.state(), unix_now_s());
    for (auto& c : resource_changes(ctx_.node.name, resources_, ctx_.domain.state()))
      changes.push_back(std::move(c));
    if (!changes.empty() && ctx_.domain.writable()) {
      domain::write_request report{domain::write_request::type::apply, std::move(changes)};
      auto written = co_await ctx_.domain.write(std::move(report), ctx_.write_deadline);
      if (!written)
        spdlog::debug("vm status report: {}", written.err().message);
      else
        continue;  // check again at once: more may have changed meanwhile
    }
    if (is_report_requested_)
      continue;
    report_timer_.expires_after(report_interval);
    boost::system::error_code ec;
    co_await report_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

}  // namespace vcube::daemon
