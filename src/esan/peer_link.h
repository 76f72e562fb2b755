// Keeps a mirror's peer connection up (docs/esan.md, "vcube-esand"): the
// listening side accepts one peer at a time, the dialling side connects
// again every second while it has none. Each connection goes to
// mirror::attach_peer; this thread then waits until it is lost. Thin: the
// decisions are in mirror and peer_rules.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "esan/esand_config.h"
#include "esan/mirror.h"

namespace vcube::esan {

class peer_link {
 public:
  peer_link(std::shared_ptr<mirror> volume, mirror_config config);
  ~peer_link();
  peer_link(const peer_link&) = delete;
  peer_link& operator=(const peer_link&) = delete;

  // Binds the listening socket (an error here is reported at once), then
  // runs the connection thread.
  status start();
  void stop();

 private:
  void run();
  int dial();          // a connected socket, or -1
  bool serve(int fd);  // false: the peer was refused or the hello failed

  std::shared_ptr<mirror> volume_;
  mirror_config config_;
  int listen_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool is_stopping_ = false;
  std::thread thread_;
};

}  // namespace vcube::esan
