// A small synchronous HTTPS client for the CLI, for node-to-node calls made
// off the event loop (join), and for tests. One connection, kept alive and
// reused; if the server closed it meanwhile, the request is sent once more on
// a new connection. Every connect, read and write has a deadline. Not
// thread-safe: one thread at a time per client.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/tls_context.h"
#include "common/error.h"
#include "common/json.h"

namespace vcube::api {

struct client_limits {
  std::chrono::milliseconds connect_timeout_ms{30'000};  // TCP connect and TLS handshake
  std::chrono::milliseconds write_timeout_ms{30'000};
  std::chrono::milliseconds read_timeout_ms{30'000};
  size_t body_bytes_max = 64 * 1024 * 1024;  // backups can be large
};

struct client_response {
  unsigned status = 0;
  json body;  // the parsed JSON; null if empty; a JSON string if not JSON
  std::vector<std::pair<std::string, std::string>> headers;
  // The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

struct client_impl;

class client {
 public:
  // `url` is "https://host[:port]" (port 8001 by default; IPv6 as [addr]).
  // With tls_trust::insecure() the first server certificate seen is pinned
  // for every later connection (see peer_fingerprint()).
  static result<std::unique_ptr<client>> create(std::string_view url, tls_trust trust,
                                                client_limits limits = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends `body` as JSON and `token` as "Authorization: Bearer". Any HTTP
  // status is a response; an error means no response (cannot connect, TLS
  // refused, deadline passed), with a message that names the URL.
  result<client_response> request(boost::beast::http::verb method, const std::string& target,
                                  std::optional<json> body = std::nullopt,
                                  std::optional<std::string> token = std::nullopt);

  // SHA-256 fingerprint of the certificate the server presented last ("" if none yet).
  std::string peer_fingerprint() const;
  const std::string& url() const;

 private:
  explicit client(std::unique_ptr<client_impl> impl);
  std::unique_ptr<client_impl> impl_;
};

}  // namespace vcube::api
