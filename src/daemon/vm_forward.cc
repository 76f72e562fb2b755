#include "daemon/vm_forward.h"

#include "api/client.h"
#include "api/dispatch.h"
#include "common/paths.h"
#include "daemon/handlers.h"
#include "daemon/off_loop.h"
#include "env/files.h"

namespace vcube::daemon {
namespace {

struct forward_call {
  std::string url;
  http::verb method;
  std::string target;
  std::optional<json> body;
  std::optional<std::string> token;
};

std::string with_forwarded_flag(std::string target) {
  return target + (target.find('?') == std::string::npos ? "?" : "&") + forwarded_param + "=1";
}

result<api::client_response> call(const forward_call& c) {
  auto ca = env::read_file(paths::ca_cert);
  if (!ca)
    return ca.err();
  api::client_limits limits;
  limits.connect_timeout_ms = std::chrono::seconds(10);
  limits.read_timeout_ms = std::chrono::seconds(600);  // a shutdown may wait minutes
  auto client = api::client::create(c.url, api::tls_trust::trust_ca(*ca), limits);
  if (!client)
    return client.err();
  return (*client)->request(c.method, c.target, c.body, c.token);
}

}  // namespace

result<std::string> node_address(context& ctx, const std::string& name) {
  auto node = ctx.domain.state().get("node", name);
  if (!node)
    return make_error(errc::not_found, "node '" + name + "' does not exist");
  auto addresses = node->value.value("addresses", json::array());
  if (addresses.empty())
    return make_error(errc::internal, "node '" + name + "' has no address");
  return addresses[0].get<std::string>();
}

awaitable<result<api::client_response>> call_node(context& ctx, const std::string& node,
                                                  api::http::verb method, std::string target,
                                                  std::optional<json> body,
                                                  std::optional<std::string> token) {
  auto address = node_address(ctx, node);
  if (!address)
    co_return address.err();
  std::string host = address->find(':') == std::string::npos ? *address : "[" + *address + "]";
  forward_call c{"https://" + host + ":" + std::to_string(paths::api_port), method,
                 std::move(target), std::move(body), std::move(token)};
  std::function<result<api::client_response>()> send = [c = std::move(c)] { return call(c); };
  auto answer = co_await off_loop(*ctx.forward_work, std::move(send));
  if (!answer)
    co_return make_error(errc::unavailable, "node '" + node + "' (" + *address +
                                                ") did not answer: " + answer.err().message);
  co_return answer;
}

awaitable<api::response> forward_to_node(context& ctx, const api::request_context& r,
                                         const std::string& node, std::optional<json> body) {
  if (r.query.count(forwarded_param))
    co_return api::error_response(
        make_error(errc::unavailable,
                   "this request was forwarded here, but this node does not run it "
                   "either; the nodes disagree for a moment: retry"));
  // Arguments are named: GCC 12 destroys class temporaries in co_await twice.
  std::string target = with_forwarded_flag(std::string(api::to_std(r.request.target())));
  std::optional<std::string> token = api::request_token(r.request);
  auto answer = co_await call_node(ctx, node, r.request.method(), std::move(target),
                                   std::move(body), std::move(token));
  if (!answer)
    co_return api::error_response(answer.err());
  co_return json_response(std::move(answer->body), answer->status);
}

}  // namespace vcube::daemon
