// vcube-esand: the eSAN data plane. Serves exports and mirrored volumes over
// NBD: fixed ones from flags or a JSON file (esand_config.h), and the volumes
// vcubed attaches through the control socket (control_server.h), restored
// from the --state file at startup.
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "common/log.h"
#include "env/files.h"
#include "esan/control_server.h"
#include "esan/esand_config.h"
#include "esan/file_backend.h"
#include "esan/link_auth.h"
#include "esan/meta_file.h"
#include "esan/mirror.h"
#include "esan/nbd_server.h"
#include "esan/peer_link.h"

namespace {

using namespace vcube;
using namespace vcube::esan;

struct flags {
  std::string config_file;
  std::vector<std::string> exports;
  std::vector<std::string> read_only_exports;
  std::vector<std::string> unix_paths;
  std::vector<std::string> tcp;
  std::vector<std::string> mirrors;
  std::string control_path;
  std::string state_path;
  std::string secret_file;
  std::string create_meta;
  uint64_t size_bytes = 0;
  uint32_t region_bytes = 65536;
  uint64_t generation = 0;
  bool is_primary = false;
  bool is_foreground = false;
  std::string log_level = "info";
  std::string log_file = "/var/log/vcube/esand.log";
};

result<esand_config> gather(const flags& f) {
  esand_config c;
  if (!f.config_file.empty()) {
    auto text = env::read_file(f.config_file);
    if (!text)
      return text.err();
    auto parsed = parse_config_json(*text);
    if (!parsed)
      return make_error(errc::invalid_input, f.config_file + ": " + parsed.err().message,
                        parsed.err().field);
    c = std::move(*parsed);
  }
  for (const auto& [list, is_read_only] :
       {std::pair{&f.exports, false}, std::pair{&f.read_only_exports, true}})
    for (const auto& text : *list) {
      auto e = parse_export_flag(text, is_read_only);
      if (!e)
        return e.err();
      c.exports.push_back(std::move(*e));
    }
  for (const auto& text : f.mirrors) {
    auto m = parse_mirror_flag(text);
    if (!m)
      return m.err();
    c.mirrors.push_back(std::move(*m));
  }
  c.unix_paths.insert(c.unix_paths.end(), f.unix_paths.begin(), f.unix_paths.end());
  c.control_path = f.control_path;
  c.state_path = f.state_path;
  if (!c.state_path.empty() && c.control_path.empty())
    return make_error(errc::invalid_input, "--state needs --control", "state");
  if (!f.secret_file.empty()) {
    auto key = env::read_file(f.secret_file);
    if (!key)
      return key.err();
    if (key->size() < auth::key_bytes_min)
      return make_error(errc::invalid_input,
                        f.secret_file + " holds fewer than 16 bytes: not a key", "secret-file");
    c.auth_key = std::move(*key);
  }
  for (const auto& text : f.tcp) {
    auto endpoint = parse_tcp_endpoint(text);
    if (!endpoint)
      return endpoint.err();
    c.tcp_endpoints.push_back(*endpoint);
  }
  if (auto s = validate(c); !s)
    return s.err();
  return c;
}

// --create-meta: a new volume's metadata file. Both sides of a new, zeroed
// volume get the same --generation and are consistent at once (zeroes need
// no copy); without one, the volume waits for its initial sync.
status create_meta(const flags& f) {
  auto file = meta_file::create(f.create_meta, f.size_bytes, f.region_bytes);
  if (!file)
    return file.err();
  volume_meta m = (*file)->meta();
  m.gens.current = f.generation;
  m.is_consistent = f.generation != 0;
  m.role = f.is_primary ? volume_role::primary : volume_role::secondary;
  return (*file)->set_meta(m);
}

result<export_map> open_exports(const esand_config& c,
                                std::vector<std::unique_ptr<peer_link>>& links) {
  export_map exports;
  for (const auto& m : c.mirrors) {
    auto opened = mirror::open(m.name, m.data_path, m.meta_path);
    if (!opened)
      return make_error(opened.err().code, "mirror " + m.name + ": " + opened.err().message);
    std::shared_ptr<mirror> volume = std::move(*opened);
    exports.emplace(m.name, volume);
    links.push_back(std::make_unique<peer_link>(volume, m));
  }
  for (const auto& e : c.exports) {
    auto b = file_backend::open(e.path, e.is_read_only);
    if (!b)
      return make_error(b.err().code, "export " + e.name + ": " + b.err().message);
    exports.emplace(e.name, std::move(*b));
  }
  return exports;
}

status listen_all(nbd_server& server, const esand_config& c) {
  for (const auto& path : c.unix_paths)
    if (auto s = server.listen_unix(path); !s)
      return s;
  for (const auto& t : c.tcp_endpoints)
    if (auto port = server.listen_tcp(t.address, t.port); !port)
      return port.err();
  return ok_status();
}

int serve(const esand_config& c, export_map exports,
          std::vector<std::unique_ptr<peer_link>>& links) {
  asio::io_context io;
  nbd_server server(io, std::move(exports));
  server.set_auth_key(c.auth_key);
  if (auto s = listen_all(server, c); !s) {
    spdlog::error("{}", s.err().message);
    return 1;
  }
  for (auto& link : links)
    if (auto s = link->start(); !s) {
      spdlog::error("{}", s.err().message);
      return 1;
    }
  // The volume calls below wait for this (the NBD) thread's io_context: run
  // it on a helper thread until the main loop takes over.
  volume_manager volumes(server, c.state_path, c.auth_key);
  control_server control(volumes);
  if (!c.control_path.empty()) {
    auto guard = asio::make_work_guard(io);
    std::thread helper([&io] { io.run(); });
    volumes.restore();
    auto started = control.start(c.control_path);
    guard.reset();
    io.stop();
    helper.join();
    io.restart();
    if (!started) {
      spdlog::error("{}", started.err().message);
      return 1;
    }
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool is_stopping = false;
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec)
      return;
    spdlog::info("vcube-esand: stopping");
    server.stop();
    is_stopping = true;
  });
  auto guard = asio::make_work_guard(io);  // the control thread may post work at any time
  while (!is_stopping && io.run_one() > 0) {
  }
  guard.reset();
  // Control commands still running may wait for this loop: keep it going
  // while the control socket and the volumes stop.
  std::thread finisher([&io] { io.run_for(std::chrono::seconds(5)); });
  control.stop();
  volumes.stop_all();
  finisher.join();  // bounded wait for in-flight I/O to finish
  for (auto& link : links)
    link->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vcube-esand: the eSAN data plane (NBD server)"};
  flags f;
  app.add_option("--config", f.config_file, "JSON file with exports and listeners");
  app.add_option("--export", f.exports, "NAME=PATH: serve the file or block device PATH as NAME");
  app.add_option("--export-read-only", f.read_only_exports, "NAME=PATH, served read-only");
  app.add_option("--control", f.control_path,
                 "the control socket (JSON lines) through which vcubed manages volumes");
  app.add_option("--state", f.state_path,
                 "with --control: the attached volumes, kept here and restored at startup");
  app.add_option("--unix", f.unix_paths, "listen on this unix socket path");
  app.add_option("--tcp", f.tcp, "listen on ADDRESS:PORT");
  app.add_option("--secret-file", f.secret_file,
                 "the cluster's eSAN key: TCP clients must prove it, remote volumes prove it");
  app.add_option("--mirror", f.mirrors,
                 "name=N,data=PATH,meta=PATH,listen=ADDR:PORT|peer=ADDR:PORT: a mirrored volume");
  app.add_option("--create-meta", f.create_meta,
                 "create a mirrored volume's metadata file at PATH and exit");
  app.add_option("--size", f.size_bytes, "with --create-meta: the volume's size in bytes");
  app.add_option("--region-bytes", f.region_bytes, "with --create-meta: bitmap region size");
  app.add_option("--generation", f.generation,
                 "with --create-meta: the same non-zero number on both sides of a new zeroed "
                 "volume (no initial copy)");
  app.add_flag("--primary", f.is_primary, "with --create-meta: this side starts primary");
  app.add_flag("--foreground", f.is_foreground, "stay in the foreground and log to stderr");
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-file", f.log_file, "log file when not in the foreground");
  CLI11_PARSE(app, argc, argv);
  if (!f.create_meta.empty()) {
    auto created = create_meta(f);
    if (!created)
      std::cerr << "vcube-esand: " << created.err().message << "\n";
    return created ? 0 : 1;
  }

  auto config = gather(f);
  if (!config) {
    std::cerr << "vcube-esand: " << config.err().message << "\n";
    return 2;
  }
  std::vector<std::unique_ptr<peer_link>> links;
  auto exports = open_exports(*config, links);
  if (!exports) {
    std::cerr << "vcube-esand: " << exports.err().message << "\n";
    return 1;
  }
  // Detach before any thread exists (the server's I/O pool): fork keeps only one.
  if (!f.is_foreground && ::daemon(0, 0) != 0) {
    std::cerr << "vcube-esand: cannot detach: " << std::strerror(errno) << "\n";
    return 1;
  }
  init_logging("vcube-esand", f.log_level, f.is_foreground, f.log_file);
  return serve(*config, std::move(*exports), links);
}
