#include "cli/cluster_setup.h"
#include "common/time.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/client.h"
#include "api/encoding.h"
#include "api/password.h"
#include "api/tls.h"
#include "api/tls_context.h"
#include "api/token.h"
#include "cluster/corosync_conf.h"
#include "cluster/corosync_service.h"
#include "common/json.h"
#include "common/paths.h"
#include "domain/store.h"
#include "env/files.h"
#include "env/node_config.h"
#include "env/process.h"

namespace vcube::cli {
namespace {

namespace http = boost::beast::http;

using namespace std::chrono_literals;

status refuse_if_configured() {
  if (env::file_exists(paths::node_config)) {
    auto node = read_node_config(paths::node_config);
    return make_error(errc::conflict, "this node already belongs to cluster '" +
                                          (node ? node->cluster : std::string("?")) + "' (" +
                                          paths::node_config + " exists)");
  }
  return ok_status();
}

status write_secret(const std::string& path, const std::string& bytes) {
  return env::write_file_atomic(path, bytes, 0600);
}

// The node's key and a certificate request for it.
struct node_identity {
  std::string key_pem, csr_pem;
};

result<node_identity> make_identity(const std::string& name, const std::string& address) {
  auto key = api::generate_key();
  if (!key)
    return key.err();
  auto csr = api::create_csr(*key, name, address);
  if (!csr)
    return csr.err();
  return node_identity{api::to_pem(*key), api::to_pem(*csr)};
}

// vcubed lives next to vcube (installed or in the build tree), else in PATH.
std::string vcubed_path() {
  if (const char* p = std::getenv("VCUBE_VCUBED"); p && *p)
    return p;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto candidate :
         {self.parent_path() / "vcubed", self.parent_path().parent_path() / "daemon" / "vcubed",
          self.parent_path().parent_path() / "sbin" / "vcubed"}) {
      if (std::filesystem::exists(candidate, ec))
        return candidate.string();
    }
  }
  return "vcubed";
}

bool is_vcubed_running() {
  auto pid_text = env::read_file(paths::vcubed_pid);
  return pid_text && env::is_process_alive(std::atoi(pid_text->c_str()), "vcubed");
}

// Waits until this node's API answers and its domain holds this node.
status wait_until_serving(const node_config& node, std::chrono::seconds deadline) {
  auto ca = env::read_file(paths::ca_cert);
  auto secret = env::read_file(paths::auth_key);
  if (!ca)
    return ca.err();
  if (!secret)
    return secret.err();
  auto client =
      api::client::create("https://" + node.address + ":" + std::to_string(paths::api_port),
                          api::tls_trust::trust_ca(*ca));
  if (!client)
    return client.err();
  std::string token = api::token_signer(*secret).issue("root", unix_now_s() + 120);
  auto until = std::chrono::steady_clock::now() + deadline;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < until) {
    auto r = (*client)->request(http::verb::get, "/api/v1/domain/node/" + node.name, std::nullopt,
                                token);
    if (r && r->status == 200)
      return ok_status();
    last = r ? r->body.dump() : r.err().message;
    std::this_thread::sleep_for(200ms);  // polling an external daemon, bounded by `until`
  }
  return make_error(errc::timeout, "vcubed on " + node.address + " did not become ready within " +
                                       std::to_string(deadline.count()) + " s (" + last +
                                       "); see /var/log/vcube/vcubed.log");
}

status write_cli_config(const std::string& address) {
  json cli = {{"url", "https://" + address + ":" + std::to_string(paths::api_port)}};
  return env::write_file_atomic(paths::cli_config, cli.dump(2) + "\n", 0644);
}

// A corosync that runs before this node belongs to a cluster runs someone
// else's configuration (Debian's package starts one with its example file);
// its settings cannot be reloaded into ours, so it is stopped first.
status stop_foreign_corosync() {
  if (!cluster::is_corosync_running())
    return ok_status();
  std::cerr << "stopping the corosync that runs with a configuration not made by vcube\n";
  return cluster::stop_corosync(30s);
}

// A domain database left from an earlier life of this machine must not take
// part in the new cluster's sync (its version could be higher and win).
status remove_old_domain() {
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    std::string path = std::string(paths::domain_db) + suffix;
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return make_error(errc::internal, "cannot remove " + path + ": " + strerror(errno));
    }
  }
  return ok_status();
}

status prepare_directories() {
  for (const char* dir : {paths::etc_dir, paths::state_dir, paths::run_dir}) {
    if (auto s = env::make_directories(dir, 0755); !s)
      return s;
  }
  return env::make_directories("/etc/corosync", 0755);
}

// The first domain version: the cluster, this node, the admin user.
status bootstrap_domain(const create_options& o) {
  auto store = domain::store::open(paths::domain_db);
  if (!store)
    return store.err();
  using domain::change;
  domain::write_request request{domain::write_request::type::apply, {}};
  request.changes.push_back(change{change::op_type::put, "cluster", "cluster",
                                   json{{"name", o.cluster},
                                        {"token_ms", o.token_ms},
                                        {"token_coefficient_ms", o.token_coefficient_ms}},
                                   0});
  request.changes.push_back(change{change::op_type::put, "node", o.name,
                                   json{{"id", 1}, {"addresses", {o.address}}, {"mode", "online"}},
                                   0});
  request.changes.push_back(
      change{change::op_type::put, "user", "admin",
             json{{"password_hash", api::hash_password(o.password)}, {"roles", {"admin"}}}, 0});
  auto version = (*store)->apply(request);
  if (!version)
    return version.err();
  return ok_status();
}

status write_pki_for_create(const create_options& o) {
  auto ca_key = api::generate_key();
  if (!ca_key)
    return ca_key.err();
  auto ca_cert = api::create_ca(*ca_key, o.cluster);
  if (!ca_cert)
    return ca_cert.err();
  auto node_key = api::generate_key();
  if (!node_key)
    return node_key.err();
  auto csr = api::create_csr(*node_key, o.name, o.address);
  if (!csr)
    return csr.err();
  auto cert = api::sign_csr(*ca_cert, *ca_key, *csr);
  if (!cert)
    return cert.err();
  for (auto s : {write_secret(paths::ca_key, api::to_pem(*ca_key)),
                 env::write_file_atomic(paths::ca_cert, api::to_pem(*ca_cert), 0644),
                 write_secret(paths::node_key, api::to_pem(*node_key)),
                 env::write_file_atomic(paths::node_cert, api::to_pem(*cert), 0644),
                 write_secret(paths::auth_key, api::generate_auth_key())}) {
    if (!s)
      return s;
  }
  return ok_status();
}

// Before this node's files are written: nothing of an earlier life may
// take part in the new cluster.
status prepare_node() {
  if (auto s = stop_foreign_corosync(); !s)
    return s;
  if (auto s = prepare_directories(); !s)
    return s;
  return remove_old_domain();
}

}  // namespace

std::string default_node_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::string name = host;
  return name.substr(0, name.find('.'));
}

result<std::string> read_password(const std::string& file, bool confirm) {
  if (!file.empty()) {
    auto text = env::read_file(file);
    if (!text)
      return text.err();
    std::string p = *text;
    while (!p.empty() && (p.back() == '\n' || p.back() == '\r'))
      p.pop_back();
    if (p.empty())
      return make_error(errc::invalid_input, "the password file is empty");
    return p;
  }
  if (!isatty(STDIN_FILENO)) {
    return make_error(errc::invalid_input,
                      "no terminal to ask for the password; use --password-file");
  }
  auto ask = [](const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << '\n';
    return line;
  };
  std::string password = ask("Admin password: ");
  if (confirm && ask("Again: ") != password) {
    return make_error(errc::invalid_input, "the passwords differ");
  }
  if (password.empty())
    return make_error(errc::invalid_input, "the password is empty");
  return password;
}

status create_cluster(const create_options& o) {
  if (auto s = refuse_if_configured(); !s)
    return s;
  if (o.password.size() < 8) {
    return make_error(errc::invalid_input, "the admin password needs at least 8 characters",
                      "password");
  }
  cluster::corosync_config conf{
      o.cluster, 1, {{1, o.name, o.address}}, o.token_ms, o.token_coefficient_ms};
  if (auto v = cluster::validate_corosync_config(conf); !v)
    return v.err();
  if (auto s = prepare_node(); !s)
    return s;
  if (auto s = write_pki_for_create(o); !s)
    return s;
  if (auto s = cluster::write_corosync_files(cluster::render_corosync_conf(conf),
                                             cluster::generate_authkey());
      !s) {
    return s;
  }
  if (auto s = bootstrap_domain(o); !s)
    return s;
  node_config node{1, o.name, o.address, o.cluster};
  if (auto s = write_cli_config(o.address); !s)
    return s;
  // node.json last: its presence means "this node is configured".
  if (auto s = write_node_config(paths::node_config, node); !s)
    return s;
  return start_services();
}

namespace {

result<json> ask_member_to_join(const join_options& o, const std::string& csr) {
  // First contact: without --fingerprint the password authenticates us to the
  // member, not the member to us (as with ssh's first connection).
  auto trust =
      o.fingerprint.empty() ? api::tls_trust::insecure() : api::tls_trust::pin(o.fingerprint);
  auto client =
      api::client::create("https://" + o.member + ":" + std::to_string(paths::api_port), trust);
  if (!client)
    return client.err();
  json body = {{"password", o.password},
               {"name", o.name},
               {"address", o.address},
               {"time", unix_now_s()},
               {"csr", csr}};
  auto r = (*client)->request(http::verb::post, "/api/v1/cluster/join", body, std::nullopt);
  if (!r)
    return r.err();
  if (o.fingerprint.empty()) {
    std::cerr << "member certificate fingerprint: " << (*client)->peer_fingerprint() << '\n';
  }
  if (r->status != 200) {
    std::string message = r->body.is_object() && r->body.contains("error")
                              ? r->body["error"].value("message", "join refused")
                              : "join refused (HTTP " + std::to_string(r->status) + ")";
    return make_error(r->status == 401 ? errc::unauthorized : errc::conflict,
                      "the member refused the join: " + message);
  }
  return std::move(r->body);
}

status write_join_files(const json& answer, const std::string& node_key) {
  auto authkey = api::base64_decode_std(answer.value("corosync_authkey", ""));
  auto secret = api::base64_decode_std(answer.value("auth_key", ""));
  if (!authkey || !secret)
    return make_error(errc::internal, "the member's answer is malformed");
  for (auto s : {write_secret(paths::ca_key, answer.value("ca_key", "")),
                 env::write_file_atomic(paths::ca_cert, answer.value("ca_cert", ""), 0644),
                 write_secret(paths::node_key, node_key),
                 env::write_file_atomic(paths::node_cert, answer.value("node_cert", ""), 0644),
                 write_secret(paths::auth_key, *secret),
                 cluster::write_corosync_files(answer.value("corosync_conf", ""), *authkey)}) {
    if (!s)
      return s;
  }
  return ok_status();
}

}  // namespace

status join_cluster(const join_options& o) {
  if (auto s = refuse_if_configured(); !s)
    return s;
  auto identity = make_identity(o.name, o.address);
  if (!identity)
    return identity.err();
  auto answer = ask_member_to_join(o, identity->csr_pem);
  if (!answer)
    return answer.err();
  if (auto s = prepare_node(); !s)
    return s;
  if (auto s = write_join_files(*answer, identity->key_pem); !s)
    return s;
  node_config node{answer->value("node_id", 0u), o.name, o.address, answer->value("cluster", "")};
  if (auto s = write_cli_config(o.address); !s)
    return s;
  if (auto s = write_node_config(paths::node_config, node); !s)
    return s;
  return start_services();
}

status start_services() {
  auto node = read_node_config(paths::node_config);
  if (!node)
    return node.err();
  if (auto s = cluster::start_corosync(30s); !s)
    return s;
  if (!is_vcubed_running()) {
    auto r = env::run({vcubed_path()}, {}, 60s);
    if (!r)
      return r.err();
    if (r->exit_code != 0) {
      return make_error(errc::internal, "vcubed did not start (exit " +
                                            std::to_string(r->exit_code) + "): " + r->err +
                                            " — see /var/log/vcube/vcubed.log");
    }
  }
  return wait_until_serving(*node, 60s);
}

status stop_services() {
  if (auto pid_text = env::read_file(paths::vcubed_pid)) {
    int pid = std::atoi(pid_text->c_str());
    if (pid > 0)
      kill(pid, SIGTERM);
    auto until = std::chrono::steady_clock::now() + 10s;
    while (env::is_process_alive(pid, "vcubed") && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(100ms);  // waiting for another process to exit, bounded
    }
  }
  return cluster::stop_corosync(30s);
}

}  // namespace vcube::cli
