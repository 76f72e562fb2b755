// Shared by the lab tests: bringing a lab up through the real `vcube lab up`,
// talking to its nodes over their HTTPS API, and waiting on conditions with
// deadlines. Needs root and network namespaces; tests skip without them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/client.h"
#include "common/json.h"

namespace vcube::labtest {

namespace http = boost::beast::http;

// The vcube executable of this build.
std::string vcube_exe();
// Runs `vcube ARGS...` (e.g. {"lab", "kill", "2"}); returns exit code, output in `out`.
int run_vcube(const std::vector<std::string>& args, std::string* out = nullptr);
// Runs `vcube --json ARGS...` inside lab node k (through `vcube lab exec`), as
// root on that node: the way to reach a node whose links are cut.
struct cli_answer {
  int exit_code = -1;
  json body;          // stdout parsed as JSON (null if it is not)
  std::string error;  // stderr
};
cli_answer node_cli(int k, const std::vector<std::string>& args);
// Why lab tests cannot run here, or "" when they can.
std::string skip_reason();

struct answer {
  unsigned status = 0;  // 0 when there was no HTTP answer at all
  json body;
  std::string transport_error;
};

// One node's API, logged in as admin.
class node_api {
 public:
  node_api(std::string address, std::string ca_pem, std::string ca_file);
  void set_token(std::string token) { token_ = std::move(token); }
  answer call(http::verb verb, const std::string& target, std::optional<json> body = {},
              bool with_token = true);
  // A raw request body (malformed JSON, oversized bodies), sent with curl.
  answer call_raw(const std::string& method, const std::string& target, const std::string& body);
  const std::string& address() const { return address_; }
  const std::string& ca_pem() const { return ca_pem_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  std::string address_;
  std::string ca_pem_;
  std::string ca_file_;
  std::unique_ptr<api::client> client_;
  std::string token_;
};

// A lab of `nodes` nodes, formed by `vcube lab up`, torn down at the end.
class lab_cluster {
 public:
  // Returns nullptr (with `why`) when the lab cannot be brought up.
  static std::unique_ptr<lab_cluster> up(int nodes, std::string& why);
  ~lab_cluster();
  node_api& node(int k) { return *apis_.at(static_cast<size_t>(k - 1)); }
  int size() const { return static_cast<int>(apis_.size()); }
  const std::string& admin_password() const { return password_; }
  // The power switch's password (the fence device's).
  const std::string& switch_password() const { return switch_password_; }

 private:
  std::vector<std::unique_ptr<node_api>> apis_;
  std::string password_;
  std::string switch_password_;
};

// The test guest (guest/README.md) built by scripts/build-guest.
inline const std::string guest_dir = std::string(VCUBE_BINARY_DIR) + "/guest";
// skip_reason(), or that the test guest is not built; "" when VM lab tests can run.
std::string guest_skip_reason();
// Copies its kernel and initrd into the lab's shared image directory (every
// node's /var/lib/vcube/images); "" or why it cannot.
std::string install_test_guest();
// GET http://IP/ of a test guest: {"hostname","uptime_s","counter",
// "heartbeat_seq","boot","disk"}, or null when it does not answer.
json guest_http(const std::string& ip);
// Waits until the test guest at `ip` reports `field` above `value`: its
// "counter" (its writes go on) or its "boot" (it booted again); `last` gets
// its last answer (null when it did not answer).
bool wait_for_guest(const std::string& ip, const char* field, int64_t value,
                    std::chrono::milliseconds deadline, json& last);
// A file inside node k's private mounts (/run is the node's own tmpfs); "" if unreadable.
std::string node_file(int k, const std::string& path);
// How many QEMU processes run VM `name`, on all nodes together.
int qemu_processes(const std::string& name);
// The power switch's request log (docs/fencing.md).
std::string switch_log();
size_t count_of(const std::string& text, const std::string& what);

// A suite whose tests share one lab with the test guest installed, brought
// up once (`nodes` nodes) and torn down after the last test.
class guest_lab_suite : public testing::Test {
 protected:
  static void bring_up(int nodes) {
    skip_ = guest_skip_reason();
    if (!skip_.empty())
      return;
    std::string why;
    lab_ = lab_cluster::up(nodes, why).release();
    ASSERT_NE(lab_, nullptr) << why;
    ASSERT_EQ(install_test_guest(), "");
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty())
      GTEST_SKIP() << skip_;
    ASSERT_NE(lab_, nullptr);
  }
  static answer call(int k, http::verb verb, const std::string& target,
                     std::optional<json> body = {}) {
    return lab_->node(k).call(verb, target, std::move(body));
  }

  static inline lab_cluster* lab_ = nullptr;
  static inline std::string skip_;
};

// Polls `condition` every 100 ms until it holds or `deadline` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

}  // namespace vcube::labtest
