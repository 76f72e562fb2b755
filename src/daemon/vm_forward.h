// Forwarding an API request to the node that runs a VM: the receiving node
// calls the same endpoint on the owner, over HTTPS trusting the cluster CA,
// with the caller's token (tokens are valid on every node).
#pragma once

#include <optional>
#include <string>

#include "api/client.h"
#include "api/handler.h"
#include "daemon/context.h"

namespace vcube::daemon {

// Query parameter marking a forwarded request, so that two nodes that
// disagree for a moment about the owner do not forward in circles.
inline constexpr const char* forwarded_param = "forwarded";

// The first address of node `name` in the domain, or not_found.
result<std::string> node_address(context& ctx, const std::string& name);

// Calls `target` on node `name` with `token` (blocking client on
// ctx.forward_work). An error when the node did not answer at all.
awaitable<result<api::client_response>> call_node(context& ctx, const std::string& node,
                                                  api::http::verb method, std::string target,
                                                  std::optional<json> body,
                                                  std::optional<std::string> token);

// Sends the request (method, target + forwarded=1, JSON body) to node `name`
// and answers with its response. Runs the blocking client on ctx.forward_work.
awaitable<api::response> forward_to_node(context& ctx, const api::request_context& r,
                                         const std::string& node,
                                         std::optional<json> body = std::nullopt);

}  // namespace vcube::daemon
