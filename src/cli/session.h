// session: how a CLI command reaches the cluster — URL (--url or
// /etc/vcube/cli.json), trust (the cluster CA), credentials (VCUBE_TOKEN, a
// saved login, or a token minted from the node's cluster secret when run as
// root on a node) — and how it prints (tables or --json).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/client.h"
#include "common/json.h"

namespace vcube::cli {

namespace http = boost::beast::http;

struct global_options {
  std::string url;      // empty: from /etc/vcube/cli.json
  std::string ca_file;  // empty: /etc/vcube/ca.crt
  bool is_json = false;
};

class session {
 public:
  explicit session(const global_options& options) : options_(options) {}

  // A request with a token; a non-2xx answer becomes the error it carries.
  result<json> call(http::verb verb, const std::string& target,
                    std::optional<json> body = std::nullopt);
  // Without a token (login).
  result<json> call_public(http::verb verb, const std::string& target,
                           std::optional<json> body = std::nullopt);
  bool is_json() const { return options_.is_json; }
  // The token requests carry (for URLs that must hold it, like the console's).
  result<std::string> bearer_token();

 private:
  result<json> send(http::verb verb, const std::string& target, std::optional<json> body,
                    bool with_token);
  status connect();
  result<std::string> token();

  global_options options_;
  std::unique_ptr<api::client> client_;
  std::optional<std::string> token_;
};

// Where `vcube login` keeps its token.
std::string saved_token_path();
// Prints an error the way every command does and returns the exit code (1).
int fail(const error& e);

}  // namespace vcube::cli
