#include "daemon/esan_agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "api/token.h"
#include "common/time.h"
#include "daemon/esan_control.h"
#include "daemon/ha_bridge.h"
#include "daemon/ha_manager.h"
#include "daemon/off_loop.h"
#include "env/files.h"
#include "env/process.h"

namespace vcube::daemon {
namespace {

constexpr auto esand_start_timeout = std::chrono::seconds(10);

// The disks whose metadata file exists in `dir`.
std::set<std::string> created_disks(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".meta")
      out.insert(e.path().stem().string());
  return out;
}

std::string describe(const json& request) {
  return request.value("op", "?") + " " + request.value("name", "");
}

}  // namespace

esan_agent::esan_agent(asio::io_context& io, context& ctx,
                       std::function<std::set<std::string>()> in_use, esan_paths paths)
    : io_(io), ctx_(ctx), in_use_(std::move(in_use)), paths_(std::move(paths)), timer_(io) {}

esan_agent::~esan_agent() {
  work_.join();
}

void esan_agent::start() {
  asio::co_spawn(io_, loop(), asio::detached);
}

void esan_agent::stop() {
  is_stopped_ = true;
  timer_.cancel();
}

void esan_agent::poke() {
  is_poked_ = true;
  timer_.cancel();
}

std::string esan_agent::esand_path() const {
  if (const char* p = std::getenv("VCUBE_ESAND"); p && *p)
    return p;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (auto candidate : {self.parent_path() / "vcube-esand",
                           self.parent_path().parent_path() / "esan" / "vcube-esand"})
      if (std::filesystem::exists(candidate, ec))
        return candidate.string();
  return "vcube-esand";
}

// A key of its own for the eSAN links, so the token-signing key is never
// used for anything else; the same on every node.
status esan_agent::write_link_key() const {
  const std::string key = api::hmac_sha256_hex(ctx_.auth_secret, "vcube eSAN link key v1");
  auto current = env::read_file(paths_.key);
  if (current && *current == key)
    return ok_status();
  return env::write_file_atomic(paths_.key, key, 0600);
}

// esand outlives vcubed (like QEMU): start it only when nothing answers.
result<json> esan_agent::ensure_esand(const std::string& nbd_listen) const {
  json status_request = {{"op", "status"}};
  if (auto status = esan_call(paths_.control, status_request))
    return status;
  if (auto s = env::make_directories(paths_.dir, 0700); !s)
    return s.err();
  if (auto s = write_link_key(); !s)
    return s.err();
  // TCP only on the cluster network, and only for clients that prove the
  // cluster's key (docs/esan.md, "Diskless attach").
  std::vector<std::string> argv = {esand_path(), "--control",     paths_.control,    "--state",
                                   paths_.state, "--unix",        paths_.nbd_socket, "--log-file",
                                   paths_.log,   "--secret-file", paths_.key};
  if (!nbd_listen.empty()) {
    argv.push_back("--tcp");
    argv.push_back(nbd_listen);
  }
  auto started = env::run(argv, {}, std::chrono::seconds(30));
  if (!started)
    return started.err();
  if (started->exit_code != 0)
    return make_error(errc::unavailable, "vcube-esand did not start (exit " +
                                             std::to_string(started->exit_code) +
                                             "): " + started->err + " — see " + paths_.log);
  auto until = std::chrono::steady_clock::now() + esand_start_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (auto status = esan_call(paths_.control, status_request))
      return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // another daemon; bounded
  }
  return make_error(errc::unavailable, "vcube-esand started but its control socket " +
                                           paths_.control + " does not answer; see " + paths_.log);
}

esan_agent::observed esan_agent::observe(const std::string& nbd_listen) const {
  observed out;
  auto status = ensure_esand(nbd_listen);
  if (!status) {
    spdlog::error("eSAN: {}", status.err().message);
    return out;
  }
  out.is_esand_up = true;
  out.volumes = status->value("volumes", json::array());
  out.remotes = status->value("remotes", json::array());
  out.created = created_disks(paths_.dir);
  return out;
}

esan_agent::tick_result esan_agent::run_requests(const std::vector<json>& requests,
                                                 const std::vector<esan_volume>& wanted,
                                                 esan_local local, const json& volumes,
                                                 const json& remotes) const {
  tick_result out;
  out.verify_done = local.verify_done;
  out.resolve_done = local.resolve_done;
  if (requests.empty()) {  // nothing changed: the status just read stands
    out.volumes = volumes;
    out.remotes = remotes;
    out.is_esand_up = true;
    return out;
  }
  for (const auto& request : requests) {
    if (request.value("op", "") == "create")
      if (auto s = import_data(request, wanted); !s) {
        spdlog::error("eSAN: {}", s.err().message);
        continue;  // tried again at the next tick
      }
    auto done = esan_call(paths_.control, request);
    std::string op = request.value("op", "");
    std::string name = request.value("name", "");
    if (done)
      spdlog::info("eSAN: {}", describe(request));
    else
      spdlog::warn("eSAN: {}: {}", describe(request), done.err().message);
    // A verify or a resolution is asked for once, whatever esand answered
    // (the status says how it went).
    for (const auto& w : wanted) {
      if (w.name == name && op == "verify")
        out.verify_done[name] = w.verify_request;
      if (w.name == name && op == "resolve")
        out.resolve_done[name] = w.resolve_at;
    }
  }
  json status_request = {{"op", "status"}};
  auto after = esan_call(paths_.control, status_request);
  if (!after)
    return out;
  out.volumes = after->value("volumes", json::array());
  out.remotes = after->value("remotes", json::array());
  out.is_esand_up = true;
  return out;
}

// A disk created from an image: the image becomes the data file (raw) before
// the volume is created around it; esand keeps an existing data file.
status esan_agent::import_data(const json& create, const std::vector<esan_volume>& wanted) const {
  std::string name = create.value("name", "");
  auto w = std::find_if(wanted.begin(), wanted.end(),
                        [&](const esan_volume& v) { return v.name == name; });
  if (w == wanted.end() || w->import_image.empty() || env::file_exists(w->data))
    return ok_status();
  if (auto s = env::make_directories(paths_.dir, 0700); !s)
    return s;
  std::string partial = w->data + ".import";
  auto converted = env::run_checked(
      {"qemu-img", "convert", "-f", w->import_format, "-O", "raw", w->import_image, partial}, {},
      std::chrono::hours(6));
  if (!converted)
    return make_error(converted.err().code, "disk " + name + ": import of " + w->import_image +
                                                ": " + converted.err().message);
  std::error_code ec;
  auto bytes = std::filesystem::file_size(partial, ec);
  if (ec || bytes > w->size_bytes) {
    std::filesystem::remove(partial, ec);
    return make_error(errc::invalid_input, "disk " + name + ": the image " + w->import_image +
                                               " is larger than the disk");
  }
  std::filesystem::resize_file(partial, w->size_bytes, ec);
  if (!ec)
    std::filesystem::rename(partial, w->data, ec);
  if (ec)
    return make_error(errc::internal, "disk " + name + ": " + ec.message());
  spdlog::info("eSAN: disk {}: imported {} ({} bytes)", name, w->import_image, bytes);
  return ok_status();
}

awaitable<void> esan_agent::loop() {
  while (!is_stopped_) {
    is_poked_ = false;
    co_await tick();
    if (is_poked_ || is_stopped_)
      continue;
    timer_.expires_after(tick_interval);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> esan_agent::tick() {
  // Acting on a stale or partial copy of the domain could delete a disk's
  // data: only with a writable (quorate, synced) domain. Without one, esand
  // is still kept running (it restores its own volumes): a VM here must not
  // lose its disk because this node lost quorum.
  if (!ctx_.domain.writable()) {
    if (!created_disks(paths_.dir).empty() || env::file_exists(paths_.state)) {
      std::function<result<json>()> keep =
          [this, listen = esan_nbd_listen(ctx_.domain.state(), ctx_.node.name)] {
            return ensure_esand(listen);
          };
      if (auto s = co_await off_loop(work_, std::move(keep)); !s)
        spdlog::error("eSAN: {}", s.err().message);
    }
    co_return;
  }
  const auto& store = ctx_.domain.state();
  auto wanted = wanted_volumes(store, ctx_.node.name, paths_);
  esan_local local;
  local.in_use = in_use_();
  local.in_use.insert(starting_.begin(), starting_.end());
  if (wanted.empty() && wanted_remotes(store, ctx_.node.name, local.in_use).empty() &&
      created_disks(paths_.dir).empty() && !env::file_exists(paths_.control))
    co_return;  // no eSAN disk here: no esand needed
  std::function<observed()> look = [this, listen = esan_nbd_listen(store, ctx_.node.name)] {
    return observe(listen);
  };
  auto seen = co_await off_loop(work_, std::move(look));
  if (!seen.is_esand_up)
    co_return;
  // Decided here, on the loop, with what runs now: a promote() for a VM
  // start marks its disks first, and its request queues behind these on the
  // one worker thread, so a demote never undoes it.
  local.created = seen.created;
  local.in_use = in_use_();
  local.in_use.insert(starting_.begin(), starting_.end());
  const auto members = member_names(ctx_.domain.state(), link_member_ids(ctx_.link));
  for (const auto& w : wanted) {
    if (esan_serving_node(ctx_.domain.state(), w.name, members) == ctx_.node.name)
      local.serving.insert(w.name);
    if (auto o = ctx_.domain.state().get("esan_status", esan_status_name(w.name, ctx_.node.name))) {
      local.verify_done[w.name] = o->value.value("verify_done", int64_t(0));
      local.resolve_done[w.name] = o->value.value("resolve_done", int64_t(0));
    }
  }
  auto requests = esan_requests(wanted, seen.volumes, local, paths_);
  auto remotes = wanted_remotes(ctx_.domain.state(), ctx_.node.name, local.in_use);
  for (auto& r : esan_remote_requests(remotes, seen.remotes))
    requests.push_back(std::move(r));
  std::function<tick_result()> work = [this, requests, wanted, local, volumes = seen.volumes,
                                       remote_volumes = seen.remotes] {
    return run_requests(requests, wanted, local, volumes, remote_volumes);
  };
  auto result = co_await off_loop(work_, std::move(work));
  if (result.is_esand_up)
    co_await report(wanted, result);
}

awaitable<void> esan_agent::report(const std::vector<esan_volume>& wanted, const tick_result& r) {
  const auto& store = ctx_.domain.state();
  std::vector<domain::change> changes;
  std::vector<json> alerts;
  int64_t now = unix_now_s();
  for (const auto& w : wanted) {
    const json* found = find_volume(r.volumes, w.name);
    json volume = found ? *found : json();
    auto verify_done = r.verify_done.count(w.name) ? r.verify_done.at(w.name) : 0;
    auto resolve_done = r.resolve_done.count(w.name) ? r.resolve_done.at(w.name) : 0;
    json value = esan_status_value(w.name, ctx_.node.name, volume, verify_done, resolve_done, now);
    std::string name = esan_status_name(w.name, ctx_.node.name);
    auto old = store.get("esan_status", name);
    if (old && !esan_status_worth_writing(old->value, value))
      continue;
    if (json alert = esan_alert(old ? old->value : json(), value, unix_now_ms()); !alert.is_null())
      alerts.push_back(std::move(alert));
    changes.push_back({domain::change::op_type::put, "esan_status", name, std::move(value),
                       old ? old->version : 0});
  }
  // Fencing: a suspended primary marks its peer outdated, and tells esand
  // once that write has committed; a marked node clears its mark once it is
  // up to date again.
  std::vector<std::string> marking;
  for (const auto& w : wanted) {
    auto disk = store.get("esan_disk", w.name);
    const json* volume = find_volume(r.volumes, w.name);
    if (!disk || !volume)
      continue;
    json updated = esan_outdated_update(disk->value, ctx_.node.name, *volume, unix_now_ms());
    if (updated.is_null())
      continue;
    if (updated.contains("outdated")) {
      if (!disk->value.contains("outdated"))
        spdlog::warn(
            "eSAN: disk {}: the peer is lost; its copy is marked outdated before "
            "writes go on",
            w.name);
      marking.push_back(w.name);
    } else {
      spdlog::info("eSAN: disk {}: this copy is up to date again", w.name);
    }
    changes.push_back(
        {domain::change::op_type::put, "esan_disk", w.name, std::move(updated), disk->version});
  }
  for (auto& c : alert_changes(store, alerts, unix_now_ms()))
    changes.push_back(std::move(c));
  if (changes.empty() || !ctx_.domain.writable())
    co_return;
  domain::write_request request{domain::write_request::type::apply, std::move(changes)};
  auto written = co_await ctx_.domain.write(std::move(request), ctx_.write_deadline);
  if (!written) {
    spdlog::debug("eSAN status report: {}", written.err().message);
    co_return;
  }
  const auto members = member_names(ctx_.domain.state(), link_member_ids(ctx_.link));
  for (const auto& disk : marking) {
    if (!may_rely_on_outdated_peer(ctx_.domain.state(), disk, ctx_.node.name, members))
      continue;  // two nodes: the peer is not fenced yet
    std::function<result<json>()> call = [this, disk] {
      return esan_call(paths_.control, json{{"op", "outdate_peer"}, {"name", disk}});
    };
    auto told = co_await off_loop(work_, std::move(call));
    if (!told)
      spdlog::warn("eSAN: disk {}: outdate_peer: {}", disk, told.err().message);
    else
      spdlog::info("eSAN: disk {}: the peer is outdated; writes go on without it", disk);
  }
}

awaitable<status> esan_agent::promote(std::vector<std::string> disks) {
  auto until = std::chrono::steady_clock::now() + promote_timeout;
  for (const auto& disk : disks)
    starting_.insert(disk);
  status out = ok_status();
  for (const auto& disk : disks) {
    auto d = ctx_.domain.state().get("esan_disk", disk);
    bool is_local = d && is_disk_node(d->value, ctx_.node.name);
    // GCC 12 miscompiles co_await in a conditional expression: two statements.
    if (is_local)
      out = co_await promote_one(disk, until);
    else
      out = co_await wait_remote(disk, until);
    if (!out)
      break;
  }
  for (const auto& disk : disks)
    starting_.erase(disk);
  co_return out;
}

awaitable<void> esan_agent::pause_a_second() {
  asio::steady_timer wait(io_, std::chrono::seconds(1));
  boost::system::error_code ec;  // stop() cancels nothing here: the wait is short
  co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
}

awaitable<status> esan_agent::promote_one(const std::string& disk,
                                          std::chrono::steady_clock::time_point until) {
  while (true) {
    auto d = ctx_.domain.state().get("esan_disk", disk);
    if (d && is_copy_outdated(d->value, ctx_.node.name)) {
      if (std::chrono::steady_clock::now() >= until)
        co_return make_error(errc::conflict,
                             "eSAN disk '" + disk + "': the copy on " + ctx_.node.name +
                                 " is outdated (the other node wrote without it); it can be "
                                 "used once it has resynced from there");
      co_await pause_a_second();  // it may be resyncing now
      continue;
    }
    std::function<result<json>()> call = [this, disk] {
      json request = {{"op", "promote"}, {"name", disk}};
      return esan_call(paths_.control, request);
    };
    auto promoted = co_await off_loop(work_, std::move(call));
    if (promoted) {
      poke();  // without its peer it holds writes until the peer is marked outdated
      co_return ok_status();
    }
    bool may_pass = promoted.err().code == errc::conflict ||
                    promoted.err().code == errc::not_found ||
                    promoted.err().code == errc::unavailable;
    if (!may_pass || std::chrono::steady_clock::now() >= until)
      co_return make_error(
          promoted.err().code,
          "eSAN disk '" + disk + "' cannot become primary on this node: " + promoted.err().message);
    poke();  // the peer's agent demotes its side; ours attaches a new volume
    co_await pause_a_second();
  }
}

// A disk without a copy here: the agent attaches it as a remote volume
// (starting_ makes it wanted); QEMU may start once esand serves it. Its
// I/O waits in esand until one of the disk's nodes is primary.
awaitable<status> esan_agent::wait_remote(const std::string& disk,
                                          std::chrono::steady_clock::time_point until) {
  while (true) {
    poke();
    std::function<result<json>()> call = [this, disk] {
      json request = {{"op", "status"}, {"name", disk}};
      return esan_call(paths_.control, request);
    };
    auto status = co_await off_loop(work_, std::move(call));
    if (status && !status->value("remotes", json::array()).empty())
      co_return ok_status();
    if (std::chrono::steady_clock::now() >= until)
      co_return make_error(errc::unavailable,
                           "eSAN disk '" + disk + "' is not served on this node: " +
                               (status ? "not attached yet" : status.err().message));
    co_await pause_a_second();
  }
}

}  // namespace vcube::daemon
