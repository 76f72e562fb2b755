#include "cli/session.h"
#include "common/time.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "api/token.h"
#include "common/paths.h"
#include "env/files.h"

namespace vcube::cli {
namespace {

result<std::string> url_from_config() {
  auto text = env::read_file(paths::cli_config);
  if (!text) {
    return make_error(errc::invalid_input,
                      "no cluster configured on this machine (" + std::string(paths::cli_config) +
                          " is missing); pass --url https://NODE:8001",
                      "url");
  }
  auto j = parse_json(*text);
  if (!j || !j->contains("url") || !(*j)["url"].is_string()) {
    return make_error(errc::invalid_input, std::string(paths::cli_config) + " has no 'url'");
  }
  return (*j)["url"].get<std::string>();
}

error error_from_answer(unsigned status, const json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const json& e = body["error"];
    std::string code = e.value("code", "internal");
    errc c = errc::internal;
    for (errc candidate :
         {errc::invalid_input, errc::unauthorized, errc::forbidden, errc::not_found, errc::conflict,
          errc::too_large, errc::no_quorum, errc::unavailable, errc::timeout}) {
      if (code == errc_name(candidate))
        c = candidate;
    }
    return make_error(c, e.value("message", "request failed"), e.value("field", ""));
  }
  return make_error(errc::internal, "the server answered HTTP " + std::to_string(status));
}

}  // namespace

std::string saved_token_path() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.config/vcube/token";
}

int fail(const error& e) {
  std::cerr << "error: " << e.message;
  if (!e.field.empty() && e.message.find(e.field) == std::string::npos) {
    std::cerr << " (field: " << e.field << ")";
  }
  std::cerr << '\n';
  return 1;
}

status session::connect() {
  if (client_)
    return ok_status();
  std::string url = options_.url;
  if (url.empty()) {
    auto configured = url_from_config();
    if (!configured)
      return configured.err();
    url = *configured;
  }
  std::string ca_file = options_.ca_file.empty() ? paths::ca_cert : options_.ca_file;
  auto ca = env::read_file(ca_file);
  if (!ca) {
    return make_error(errc::invalid_input,
                      "cannot read the cluster CA certificate " + ca_file + "; pass --ca FILE");
  }
  api::client_limits limits;
  limits.read_timeout_ms = std::chrono::minutes(70);  // a VM shutdown may wait up to an hour
  auto created = api::client::create(url, api::tls_trust::trust_ca(*ca), limits);
  if (!created)
    return created.err();
  client_ = std::move(*created);
  return ok_status();
}

// VCUBE_TOKEN, else a token minted from the node's cluster secret (root on a
// node), else the one `vcube login` saved.
result<std::string> session::bearer_token() {
  return token();
}

result<std::string> session::token() {
  if (token_)
    return *token_;
  if (const char* env_token = std::getenv("VCUBE_TOKEN"); env_token && *env_token) {
    token_ = env_token;
  } else if (auto secret = env::read_file(paths::auth_key); secret && !secret->empty()) {
    token_ = api::token_signer(*secret).issue("root", unix_now_s() + 600);
  } else if (auto saved = env::read_file(saved_token_path()); saved) {
    std::string t = *saved;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' '))
      t.pop_back();
    token_ = t;
  } else {
    return make_error(errc::unauthorized, "not logged in: run `vcube login --user NAME` first");
  }
  return *token_;
}

result<json> session::send(http::verb verb, const std::string& target, std::optional<json> body,
                           bool with_token) {
  if (auto s = connect(); !s)
    return s.err();
  std::optional<std::string> bearer;
  if (with_token) {
    auto t = token();
    if (!t)
      return t.err();
    bearer = *t;
  }
  auto answer = client_->request(verb, target, std::move(body), bearer);
  if (!answer)
    return answer.err();
  if (answer->status < 200 || answer->status >= 300) {
    return error_from_answer(answer->status, answer->body);
  }
  return std::move(answer->body);
}

result<json> session::call(http::verb verb, const std::string& target, std::optional<json> body) {
  return send(verb, target, std::move(body), true);
}

result<json> session::call_public(http::verb verb, const std::string& target,
                                  std::optional<json> body) {
  return send(verb, target, std::move(body), false);
}

}  // namespace vcube::cli
