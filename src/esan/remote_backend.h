// A diskless node's volume (docs/esan.md, "Diskless attach"): a backend
// whose every request goes over TCP NBD (nbd_client.h) to whichever of the
// disk's nodes is primary. The local QEMU sees an ordinary export on the
// unix socket; which node serves it is this class's business.
//
// A request that fails because the server went away or is no longer
// primary (EPERM) is sent again, to the first server that takes it, until
// retry_ms_max passes: writes are idempotent, and a failover (fence, then
// promotion of the other disk node) takes seconds. The guest sees an error
// only when no server takes the request for that long.
//
// Thread-safe: the NBD server calls it from several worker threads; each
// call uses its own connection from a small pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "esan/backend.h"
#include "esan/nbd_client.h"

namespace vcube::esan {

struct remote_config {
  std::string name;  // the export, here and on the servers
  uint64_t size_bytes = 0;
  std::vector<tcp_endpoint> servers;  // the disk's nodes, tried in turn
};

struct remote_limits {
  std::chrono::milliseconds retry_ms_max{120000};
  std::chrono::milliseconds backoff_ms_max{1000};
  size_t idle_connections_max = 8;
};

struct remote_status {
  std::string server;  // ADDR:PORT of the last server that answered, or ""
  bool is_connected = false;
  std::string message;  // the last failure
};

class remote_backend : public backend {
 public:
  remote_backend(remote_config config, nbd_client_options options, remote_limits limits = {});
  ~remote_backend() override;

  uint64_t size_bytes() const override { return config_.size_bytes; }
  bool is_read_only() const override { return false; }
  bool may_serve_remotely() const override { return false; }  // no chains of remotes
  status read(uint64_t offset, std::span<std::byte> out) override;
  status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) override;
  status flush() override;
  status trim(uint64_t offset, uint64_t length, bool is_fua) override;
  status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) override;

  // Ends the retries of waiting requests (they fail) and refuses new ones.
  void stop();
  remote_status status_now() const;
  const remote_config& config() const { return config_; }

 private:
  status run(const nbd::request& r, std::span<const std::byte> payload, std::span<std::byte> out);
  result<std::unique_ptr<nbd_client>> take();
  void give_back(std::unique_ptr<nbd_client> c);
  void note_failure(const std::string& message);

  const remote_config config_;
  const nbd_client_options options_;
  const remote_limits limits_;
  mutable std::mutex mutex_;  // the fields below
  std::condition_variable stopped_;
  std::vector<std::unique_ptr<nbd_client>> idle_;
  size_t preferred_ = 0;       // index into servers of the last one that answered
  bool has_answered_ = false;  // preferred_ is one that answered, not the first by default
  bool is_connected_ = false;
  std::string message_;
  bool is_stopped_ = false;
};

}  // namespace vcube::esan
