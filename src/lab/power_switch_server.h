// The lab power switch: a Redfish server (power_switch_routes.h) that holds
// one listening socket per node INSIDE that node's network namespace, so
// inside every node it is at https://127.0.0.1:<port>, stays reachable when
// the node's cluster link is cut (a PDU sits on its own management network),
// and knows which node every connection comes from.
//
// Like a real switch it executes ONE request at a time across all sockets,
// which is what decides a two-node fence race; a node whose outlet is Off
// sends nothing more: its connections are closed unanswered (also a request
// that was waiting for its turn while its sender was switched off).
//
// Threads: one per node, accepting and serving that node's connections one
// after the other (every response closes its connection; a slow client holds
// its own node's socket for at most `request_timeout`). The power hooks run
// on those threads, one at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "lab/power_switch_log.h"
#include "lab/power_switch_routes.h"

namespace vcube::lab {

struct power_switch_config {
  // [k-1]: node k's network namespace ("/run/netns/vcube-lab-nK"); the size is the node count.
  std::vector<std::string> netns_paths;
  int port = 8443;
  std::string username = "admin";
  std::string password;
  std::string state_file;  // power states, read at start, written on every change
  // Cut node k's power (kill all its processes) / boot it. An error fails the
  // request with 500; a failed power_off leaves the state On.
  std::function<status(int)> power_off;
  std::function<status(int)> power_on;
  std::ostream* log = nullptr;  // one line per connection (power_switch_log.h); must outlive us
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);  // handshake + request
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(10);
};

class power_switch {
 public:
  explicit power_switch(power_switch_config config);
  ~power_switch();  // stop()
  power_switch(const power_switch&) = delete;
  power_switch& operator=(const power_switch&) = delete;

  // Certificate, power states, sockets, threads. Once it returns ok, every
  // node's socket accepts connections.
  status start();
  // Wakes every thread and joins it; a request in progress finishes its
  // power hook first.
  void stop();

  std::vector<power_state> states() const;

 private:
  struct tls;  // the TLS server context, kept out of this header
  void serve_node(int k);
  void serve_connection(int k, int fd);
  // The serialized part of a request: auth, routing, the power action, its
  // log line. Empty when dropped because k's outlet went off meanwhile.
  std::optional<switch_reply> execute(int k, const switch_request& request,
                                      const std::string& authorization);
  status perform(int k, reset_type type);
  void set_state(int k, power_state state);
  power_state state_of(int k) const;
  void log(switch_log_entry entry);
  void log_note(const std::string& text);

  power_switch_config config_;
  std::unique_ptr<tls> tls_;
  std::vector<int> listen_fds_;
  int stop_fd_ = -1;
  std::vector<std::thread> threads_;
  std::mutex request_mutex_;        // one request at a time; held around execute()
  mutable std::mutex state_mutex_;  // guards states_
  std::vector<power_state> states_;
  std::mutex log_mutex_;  // guards *config_.log
};

}  // namespace vcube::lab
