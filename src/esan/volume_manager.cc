#include "esan/volume_manager.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "env/files.h"

namespace vcube::esan {
namespace {

using namespace control;

error os_error(const std::string& what, const std::string& path) {
  return make_error(errc::internal, what + " " + path + ": " + std::strerror(errno));
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A sparse data file of `size` bytes; an existing one of at least that size
// is kept with its content (importing data). Sets `is_new` when it made one.
status ensure_data_file(const std::string& path, uint64_t size, bool& is_new) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < size)
      return make_error(errc::conflict,
                        path + " exists and is smaller than " + std::to_string(size) + " bytes");
    return ok_status();
  }
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty())
    if (auto s = env::make_directories(parent.string()); !s)
      return s;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return os_error("cannot create", path);
  bool is_sized = ::ftruncate(fd, static_cast<off_t>(size)) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!is_sized) {
    auto e = os_error("cannot size", path);
    ::unlink(path.c_str());
    return e;
  }
  is_new = true;
  return ok_status();
}

status unlink_if_present(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return os_error("cannot remove", path);
  return ok_status();
}

}  // namespace

volume_manager::volume_manager(nbd_server& server, std::string state_path, std::string auth_key)
    : server_(server), state_path_(std::move(state_path)), auth_key_(std::move(auth_key)) {}

volume_manager::~volume_manager() {
  stop_all();
}

void volume_manager::stop_all() {
  std::lock_guard lock(mutex_);
  // The exports stay: the server is stopping too, and its thread may no
  // longer run to remove them.
  for (auto& [name, v] : volumes_)
    v.link->stop();
  volumes_.clear();
  for (auto& [name, r] : remotes_)
    r->stop();
  remotes_.clear();
}

void volume_manager::restore() {
  if (state_path_.empty() || !env::file_exists(state_path_))
    return;
  auto text = env::read_file(state_path_);
  auto listed = text ? parse_state(*text) : result<saved_state>(text.err());
  if (!listed) {
    spdlog::error("esand: state file {} not used: {}", state_path_, listed.err().message);
    return;
  }
  std::lock_guard lock(mutex_);
  for (const auto& r : listed->remotes)
    if (auto attached = attach_remote(r, true); !attached)
      spdlog::error("esand: remote volume {} not restored: {}", r.remote.name,
                    attached.err().message);
  for (const auto& a : listed->volumes) {
    auto attached = attach(a, true);
    if (attached) {
      spdlog::info("esand: volume {} restored", a.volume.name);
      continue;
    }
    spdlog::error("esand: volume {} not restored: {}", a.volume.name, attached.err().message);
    absent_[a.volume.name] = a;
  }
}

std::string volume_manager::handle(std::string_view line) {
  auto c = parse_request(line);
  if (!c)
    return reply_error(c.err());
  std::lock_guard lock(mutex_);
  auto done = execute(*c);
  if (!done) {
    spdlog::info("esand control: {} refused: {}", std::string(line.substr(0, 200)),
                 done.err().message);
    return reply_error(done.err());
  }
  return reply_ok(std::move(*done));
}

result<json> volume_manager::execute(const command& c) {
  if (const auto* x = std::get_if<create_command>(&c))
    return create(*x);
  if (const auto* x = std::get_if<attach_command>(&c))
    return attach(*x, false);
  if (const auto* x = std::get_if<attach_remote_command>(&c))
    return attach_remote(*x, false);
  if (const auto* x = std::get_if<detach_command>(&c))
    return remotes_.count(x->name) ? detach_remote(*x) : detach(*x);
  if (const auto* x = std::get_if<delete_command>(&c))
    return remove(*x);
  if (const auto* x = std::get_if<status_command>(&c))
    return report(*x);
  if (const auto* x = std::get_if<rate_command>(&c))
    return rate(*x);
  // The rest act on one attached volume's mirror.
  std::string name = std::visit(
      [](const auto& x) -> std::string {
        if constexpr (requires { x.name.size(); })
          return x.name;
        else
          return "";
      },
      c);
  auto v = find(name);
  if (!v)
    return v.err();
  mirror& m = *(*v)->data;
  status done = ok_status();
  if (const auto* x = std::get_if<promote_command>(&c))
    done = m.promote(x->allow_two_primaries);
  else if (std::holds_alternative<demote_command>(c))
    done = m.demote();
  else if (const auto* x = std::get_if<resize_command>(&c))
    done = m.resize(x->size_bytes);
  else if (std::holds_alternative<verify_command>(c))
    done = m.start_verify();
  else if (std::holds_alternative<resolve_command>(c))
    done = m.resolve_discard();
  else if (std::holds_alternative<outdate_peer_command>(c))
    done = m.outdate_peer();
  if (!done)
    return done.err();
  return json::object();
}

result<volume_manager::volume*> volume_manager::find(const std::string& name) {
  auto it = volumes_.find(name);
  if (it == volumes_.end() && remotes_.count(name))
    return make_error(errc::conflict, "volume " + name + " is diskless on this node", "name");
  if (it == volumes_.end())
    return make_error(errc::not_found, "volume " + name + " is not attached", "name");
  return &it->second;
}

result<json> volume_manager::create(const create_command& c) {
  if (exists(c.meta_path))
    return make_error(
        errc::conflict,
        c.meta_path + " exists: volume " + c.name + " was created already (delete it first)",
        "meta");
  bool is_new_data = false;
  if (auto s = ensure_data_file(c.data_path, c.size_bytes, is_new_data); !s)
    return s.err();
  auto undo = [&](const error& e) -> result<json> {
    if (is_new_data)
      ::unlink(c.data_path.c_str());
    return e;
  };
  auto parent = std::filesystem::path(c.meta_path).parent_path();
  if (!parent.empty())
    if (auto s = env::make_directories(parent.string()); !s)
      return undo(s.err());
  auto file = meta_file::create(c.meta_path, c.size_bytes, c.region_bytes);
  if (!file)
    return undo(file.err());
  volume_meta m = (*file)->meta();
  m.gens.current = c.generation;
  m.is_consistent = c.generation != 0;
  m.role = c.is_primary ? volume_role::primary : volume_role::secondary;
  if (auto s = (*file)->set_meta(m); !s) {
    ::unlink(c.meta_path.c_str());
    return undo(s.err());
  }
  spdlog::info("esand: volume {} created ({} bytes, generation {:x}, {})", c.name, c.size_bytes,
               c.generation, c.is_primary ? "primary" : "secondary");
  return json::object();
}

result<json> volume_manager::attach(const attach_command& c, bool is_restore) {
  if (remotes_.count(c.volume.name))
    return make_error(errc::conflict, "volume " + c.volume.name + " is attached as a remote volume",
                      "name");
  if (auto it = volumes_.find(c.volume.name); it != volumes_.end()) {
    if (!same_volume(it->second.config, c))
      return make_error(errc::conflict,
                        "volume " + c.volume.name + " is attached with other files or endpoints",
                        "name");
    if (it->second.config.rate_bytes_per_s == c.rate_bytes_per_s &&
        it->second.config.is_fencing == c.is_fencing)
      return json::object();  // the same attach again: done already
    it->second.data->set_fencing(c.is_fencing);
    it->second.config.is_fencing = c.is_fencing;
    return rate({c.volume.name, c.rate_bytes_per_s});
  }
  resync_options resync;
  resync.rate_bytes_per_s = c.rate_bytes_per_s;
  auto opened = mirror::open(c.volume.name, c.volume.data_path, c.volume.meta_path, resync);
  if (!opened)
    return make_error(opened.err().code, "volume " + c.volume.name + ": " + opened.err().message);
  std::shared_ptr<mirror> data = std::move(*opened);
  data->set_fencing(c.is_fencing);
  if (auto s = server_.add_export(c.volume.name, data); !s)
    return s.err();
  auto link = std::make_unique<peer_link>(data, c.volume);
  if (auto s = link->start(); !s) {
    (void)server_.remove_export(c.volume.name);
    return s.err();
  }
  volumes_.emplace(c.volume.name, volume{c, data, std::move(link)});
  absent_.erase(c.volume.name);
  spdlog::info("esand: volume {} attached", c.volume.name);
  if (!is_restore)
    if (auto s = save_state(); !s)
      return s.err();
  return json::object();
}

result<json> volume_manager::attach_remote(const attach_remote_command& c, bool is_restore) {
  const remote_config& wanted = c.remote;
  if (volumes_.count(wanted.name) || absent_.count(wanted.name))
    return make_error(errc::conflict, "volume " + wanted.name + " has a copy on this node", "name");
  if (auto it = remotes_.find(wanted.name); it != remotes_.end()) {
    if (attach_remote_json({it->second->config()}) == attach_remote_json(c))
      return json::object();  // the same attach again: done already
    // Another size or other servers: detach first (refused while a client uses it).
    return make_error(errc::conflict,
                      "remote volume " + wanted.name + " is attached with another size or servers",
                      "name");
  }
  nbd_client_options options;
  options.auth_key = auth_key_;
  auto remote = std::make_shared<remote_backend>(wanted, options);
  if (auto s = server_.add_export(wanted.name, remote); !s)
    return s.err();
  remotes_.emplace(wanted.name, std::move(remote));
  spdlog::info("esand: remote volume {} attached", wanted.name);
  if (!is_restore)
    if (auto s = save_state(); !s)
      return s.err();
  return json::object();
}

// The first step of a detach: the export goes (refused while NBD clients
// use it, unless forced: then they are closed).
status volume_manager::remove_export(const detach_command& c) {
  auto clients = server_.client_count(c.name);
  if (!clients)
    return clients.err();
  if (*clients > 0 && !c.is_forced)
    return make_error(errc::conflict, "volume " + c.name + " has " + std::to_string(*clients) +
                                          " NBD clients; stop them or detach with force");
  if (auto s = server_.remove_export(c.name); !s && s.err().code != errc::not_found)
    return s;
  return ok_status();
}

result<json> volume_manager::detach_remote(const detach_command& c) {
  if (auto s = remove_export(c); !s)
    return s.err();
  remotes_.at(c.name)->stop();
  remotes_.erase(c.name);
  spdlog::info("esand: remote volume {} detached", c.name);
  if (auto s = save_state(); !s)
    return s.err();
  return json::object();
}

result<json> volume_manager::detach(const detach_command& c) {
  auto it = volumes_.find(c.name);
  if (it == volumes_.end()) {
    if (absent_.erase(c.name) == 0)
      return make_error(errc::not_found, "volume " + c.name + " is not attached", "name");
    if (auto s = save_state(); !s)
      return s.err();
    return json::object();
  }
  if (auto s = remove_export(c); !s)
    return s.err();
  it->second.link->stop();
  std::weak_ptr<mirror> closing = it->second.data;
  volumes_.erase(it);
  // NBD requests still running hold the mirror: wait (bounded) until they
  // are done, so that an attach right after never finds it open twice.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!closing.expired() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no event to wait on
  if (!closing.expired())
    spdlog::warn("esand: volume {}: NBD requests still hold it after 10 s", c.name);
  spdlog::info("esand: volume {} detached", c.name);
  if (auto s = save_state(); !s)
    return s.err();
  return json::object();
}

result<json> volume_manager::remove(const delete_command& c) {
  if (volumes_.count(c.name))
    return make_error(errc::conflict, "volume " + c.name + " is attached; detach it first", "name");
  if (auto s = unlink_if_present(c.data_path); !s)
    return s.err();
  if (auto s = unlink_if_present(c.meta_path); !s)
    return s.err();
  spdlog::info("esand: volume {} deleted", c.name);
  return json::object();
}

result<json> volume_manager::rate(const rate_command& c) {
  auto v = find(c.name);
  if (!v)
    return v.err();
  (*v)->data->set_rate(c.rate_bytes_per_s);
  (*v)->config.rate_bytes_per_s = c.rate_bytes_per_s;
  if (auto s = save_state(); !s)
    return s.err();
  return json::object();
}

control::volume_status volume_manager::status_of(const std::string& name, const volume& v) {
  mirror_status m = v.data->status_now();
  volume_status s;
  s.name = name;
  s.size_bytes = m.size_bytes;
  s.role = m.role;
  s.peer_role = m.peer_role;
  s.is_connected = m.is_connected;
  s.disk_state = m.disk_state;
  s.peer_disk_state = m.peer_disk_state;
  s.percent = m.percent;
  s.out_of_sync_bytes = m.out_of_sync_bytes;
  s.resynced_bytes = m.resynced_bytes;
  s.rate_bytes_per_s = m.rate_bytes_per_s;
  s.message = m.message;
  auto clients = server_.client_count(name);
  s.nbd_clients = clients ? *clients : 0;
  s.generation = m.generation;
  s.is_fencing = m.is_fencing;
  s.is_suspended = m.is_suspended;
  s.verify = {m.verify.state,           m.verify.percent,           m.verify.differing_regions,
              m.verify.differing_bytes, m.verify.first_differences, m.verify.message};
  return s;
}

result<json> volume_manager::report(const status_command& c) {
  json list = json::array();
  if (c.name && !remotes_.count(*c.name)) {
    auto v = find(*c.name);
    if (!v)
      return v.err();
    list.push_back(status_json(status_of(*c.name, **v)));
  } else if (!c.name) {
    for (const auto& [name, v] : volumes_)
      list.push_back(status_json(status_of(name, v)));
  }
  json remotes = json::array();
  for (const auto& [name, r] : remotes_) {
    if (c.name && *c.name != name)
      continue;
    auto clients = server_.client_count(name);
    remotes.push_back(remote_status_json(r->config(), r->status_now(), clients ? *clients : 0));
  }
  return json{{"volumes", list}, {"remotes", remotes}};
}

status volume_manager::save_state() {
  if (state_path_.empty())
    return ok_status();
  saved_state all;
  for (const auto& [name, v] : volumes_)
    all.volumes.push_back(v.config);
  for (const auto& [name, a] : absent_)
    all.volumes.push_back(a);
  for (const auto& [name, r] : remotes_)
    all.remotes.push_back({r->config()});
  auto parent = std::filesystem::path(state_path_).parent_path();
  if (!parent.empty())
    if (auto s = env::make_directories(parent.string()); !s)
      return s;
  return env::write_file_atomic(state_path_, state_text(all), 0600);
}

}  // namespace vcube::esan
