// Domain write commit latency and vcubed's idle memory, measured on a running
// 3-node lab (bench/run brings one up). Each write is a PUT on node 1 over a
// kept-alive HTTPS connection; it returns when node 1 has applied its own
// message, i.e. after a CPG round trip through corosync.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "env/process.h"
#include "lab/lab_state.h"
#include "tests/lab/lab_fixture.h"

namespace {

using namespace vcube;
using clock_type = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Resident memory of every vcubed on this host, in KiB.
std::vector<long> vcubed_rss_kib() {
  std::vector<long> out;
  auto r = env::run({"pgrep", "-x", "vcubed"});
  if (!r)
    return out;
  size_t start = 0;
  while (start < r->out.size()) {
    size_t end = r->out.find('\n', start);
    std::string pid = r->out.substr(start, end - start);
    start = end == std::string::npos ? r->out.size() : end + 1;
    std::ifstream status("/proc/" + pid + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0)
        out.push_back(std::stol(line.substr(6)));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int writes = argc > 1 ? std::atoi(argv[1]) : 1000;
  size_t node =
      argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 1;  // which node takes the writes
  auto state = lab::read_lab_state();
  if (!state) {
    std::cerr << "no lab running: start one with `vcube lab up` (bench/run does it)\n";
    return 1;
  }
  std::string why;
  auto ca = std::ifstream("/var/lib/vcube-lab/n1/etc-vcube/ca.crt");
  std::string ca_pem((std::istreambuf_iterator<char>(ca)), std::istreambuf_iterator<char>());
  labtest::node_api n1(state->node_addresses.at(node - 1), ca_pem,
                       "/var/lib/vcube-lab/n1/etc-vcube/ca.crt");
  auto login = n1.call(labtest::http::verb::post, "/api/v1/login",
                       json{{"user", "admin"}, {"password", state->admin_password}}, false);
  if (login.status != 200) {
    std::cerr << "login failed: " << login.body.dump() << login.transport_error << '\n';
    return 1;
  }
  n1.set_token(login.body["token"]);

  std::vector<double> ms;
  for (int i = 0; i < writes; ++i) {
    json value = {{"value", {{"address", "192.0.2." + std::to_string(i % 250 + 1)}}}};
    auto t0 = clock_type::now();
    auto r = n1.call(labtest::http::verb::put,
                     "/api/v1/domain/host/bench-" + std::to_string(i % 100), value);
    auto t1 = clock_type::now();
    if (r.status != 200) {
      std::cerr << "write " << i << " failed: " << r.body.dump() << r.transport_error << '\n';
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  // Baseline: the same API path without replication (a read of the same objects).
  std::vector<double> read_ms;
  for (int i = 0; i < writes; ++i) {
    auto t0 = clock_type::now();
    auto r =
        n1.call(labtest::http::verb::get, "/api/v1/domain/host/bench-" + std::to_string(i % 100));
    auto t1 = clock_type::now();
    if (r.status != 200) {
      std::cerr << "read " << i << " failed: " << r.body.dump() << r.transport_error << '\n';
      return 1;
    }
    read_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::this_thread::sleep_for(
      std::chrono::seconds(5));  // let the daemons go idle (measurement, not sync)
  auto rss = vcubed_rss_kib();
  std::printf("| metric | value | goal |\n|---|---|---|\n");
  std::printf("| domain write commit latency p50 (%d sequential writes, 3 nodes) | %.2f ms | |\n",
              writes, percentile(ms, 0.50));
  std::printf("| domain write commit latency p90 | %.2f ms | |\n", percentile(ms, 0.90));
  std::printf("| domain write commit latency p99 | %.2f ms | <= 10 ms |\n", percentile(ms, 0.99));
  std::printf("| domain write commit latency max | %.2f ms | |\n", percentile(ms, 1.0));
  std::printf("| baseline: API read of the same objects, p50 / p99 | %.2f / %.2f ms | |\n",
              percentile(read_ms, 0.50), percentile(read_ms, 0.99));
  for (size_t i = 0; i < rss.size(); ++i) {
    std::printf("| vcubed resident memory, idle (process %zu) | %.1f MiB | <= 30 MiB |\n", i + 1,
                static_cast<double>(rss[i]) / 1024.0);
  }
  return 0;
}
