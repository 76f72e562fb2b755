#include "tests/lab/lab_fixture.h"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "env/files.h"
#include "env/process.h"
#include "lab/lab_state.h"
#include "lab/lab_switch.h"
#include "lab/names.h"

namespace vcube::labtest {

std::string vcube_exe() {
  return std::string(VCUBE_BINARY_DIR) + "/src/cli/vcube";
}

int run_vcube(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {vcube_exe()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = env::run(argv, {}, std::chrono::minutes(5));
  if (!r) {
    if (out)
      *out = r.err().message;
    return -1;
  }
  if (out)
    *out = r->out + r->err;
  return r->exit_code;
}

cli_answer node_cli(int k, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {vcube_exe(), "lab",       "exec",  std::to_string(k),
                                   "--",        vcube_exe(), "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = env::run(argv, {}, std::chrono::minutes(1));
  if (!r)
    return cli_answer{-1, json(), r.err().message};
  cli_answer a{r->exit_code, json::object(), r->err};
  if (auto parsed = parse_json(r->out))
    a.body = *parsed;
  return a;
}

std::string skip_reason() {
  if (geteuid() != 0)
    return "lab tests need root (network and mount namespaces)";
  auto probe = env::run({"ip", "netns", "add", "vcube-lab-probe"});
  if (!probe || probe->exit_code != 0)
    return "cannot create network namespaces here";
  (void)env::run({"ip", "netns", "del", "vcube-lab-probe"});
  if (!env::file_exists("/usr/sbin/corosync"))
    return "corosync is not installed";
  return {};
}

std::string guest_skip_reason() {
  if (auto why = skip_reason(); !why.empty())
    return why;
  if (!std::filesystem::exists(guest_dir + "/vmlinux"))
    return "no test guest in " + guest_dir + " (scripts/build-guest " + guest_dir + ")";
  return "";
}

std::string install_test_guest() {
  if (!std::filesystem::exists(guest_dir + "/vmlinux"))
    return "no test guest in " + guest_dir + " (scripts/build-guest " + guest_dir + ")";
  std::error_code ec;
  std::filesystem::create_directories(lab::shared_images_dir, ec);
  for (const char* f : {"vmlinux", "initrd.img"})
    std::filesystem::copy_file(guest_dir + "/" + f, std::string(lab::shared_images_dir) + "/" + f,
                               std::filesystem::copy_options::overwrite_existing, ec);
  return ec ? "cannot copy the test guest: " + ec.message() : "";
}

json guest_http(const std::string& ip) {
  auto r = env::run({"curl", "-s", "--max-time", "2", "http://" + ip + "/"}, {},
                    std::chrono::seconds(5));
  if (!r || r->exit_code != 0)
    return nullptr;
  auto j = parse_json(r->out);
  return j ? *j : json(nullptr);
}

bool wait_for_guest(const std::string& ip, const char* field, int64_t value,
                    std::chrono::milliseconds deadline, json& last) {
  return wait_until(
      [&] {
        last = guest_http(ip);
        return last.is_object() && last.value(field, int64_t(0)) > value;
      },
      deadline);
}

std::string node_file(int k, const std::string& path) {
  std::string out;
  if (run_vcube({"lab", "exec", std::to_string(k), "cat", path}, &out) != 0)
    return "";
  return out;
}

int qemu_processes(const std::string& name) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto cmdline = env::read_file(entry.path().string() + "/cmdline");
    if (!cmdline || cmdline->find("qemu-system") == std::string::npos)
      continue;
    // argv is NUL-separated: match the whole argument "guest=NAME".
    if (cmdline->find(std::string("guest=") + name + '\0') != std::string::npos)
      ++n;
  }
  return n;
}

std::string switch_log() {
  auto text = env::read_file(lab::switch_log_file);
  return text ? *text : "";
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

node_api::node_api(std::string address, std::string ca_pem, std::string ca_file)
    : address_(std::move(address)), ca_pem_(std::move(ca_pem)), ca_file_(std::move(ca_file)) {
  auto created =
      api::client::create("https://" + address_ + ":8001", api::tls_trust::trust_ca(ca_pem_));
  if (created)
    client_ = std::move(*created);
}

answer node_api::call(http::verb verb, const std::string& target, std::optional<json> body,
                      bool with_token) {
  std::optional<std::string> token;
  if (with_token)
    token = token_;
  if (!client_)
    return answer{0, json(), "no client"};
  auto r = client_->request(verb, target, std::move(body), token);
  if (!r)
    return answer{0, json::object(), r.err().message};
  return answer{r->status, r->body.is_null() ? json::object() : r->body, {}};
}

answer node_api::call_raw(const std::string& method, const std::string& target,
                          const std::string& body) {
  auto r = env::run(
      {"curl", "-sS", "--max-time", "30", "--cacert", ca_file_, "-X", method, "-H",
       "Content-Type: application/json", "-H", "Authorization: Bearer " + token_, "--data-binary",
       "@-", "-w", "\n%{http_code}", "https://" + address_ + ":8001" + target},
      body);
  if (!r)
    return answer{0, json(), r.err().message};
  if (r->exit_code != 0)
    return answer{0, json(), "curl: " + r->err};
  auto split = r->out.rfind('\n');
  answer a{static_cast<unsigned>(std::atoi(r->out.c_str() + split + 1)), json(), {}};
  auto parsed = parse_json(r->out.substr(0, split));
  if (parsed)
    a.body = *parsed;
  return a;
}

std::unique_ptr<lab_cluster> lab_cluster::up(int nodes, std::string& why) {
  std::string out;
  run_vcube({"lab", "down"});
  if (run_vcube({"lab", "up", "--nodes", std::to_string(nodes)}, &out) != 0) {
    why = "vcube lab up failed: " + out;
    return nullptr;
  }
  auto state = lab::read_lab_state();
  const std::string ca_file = "/var/lib/vcube-lab/n1/etc-vcube/ca.crt";
  auto ca = env::read_file(ca_file);
  if (!state || !ca) {
    why = "lab state or CA certificate missing after lab up";
    return nullptr;
  }
  auto cluster = std::unique_ptr<lab_cluster>(new lab_cluster());
  cluster->password_ = state->admin_password;
  cluster->switch_password_ = state->switch_password;
  for (const auto& address : state->node_addresses) {
    auto api = std::make_unique<node_api>(address, *ca, ca_file);
    auto login = api->call(http::verb::post, "/api/v1/login",
                           json{{"user", "admin"}, {"password", state->admin_password}}, false);
    if (login.status != 200) {
      why = "login on " + address + " failed: " + login.body.dump() + login.transport_error;
      return nullptr;
    }
    api->set_token(login.body["token"]);
    cluster->apis_.push_back(std::move(api));
  }
  return cluster;
}

lab_cluster::~lab_cluster() {
  if (!std::getenv("VCUBE_LAB_KEEP"))
    run_vcube({"lab", "down"});
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval, not a sync
  }
}

}  // namespace vcube::labtest
