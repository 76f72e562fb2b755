// The REST endpoints of docs/api.md, registered on the API router. Handlers
// are plain coroutines of (context&, request_context&); the lambdas that
// register them only forward and are not coroutines themselves.
#pragma once

#include <optional>
#include <string_view>

#include "api/router.h"
#include "daemon/context.h"

namespace vcube::daemon {

namespace http = api::http;

void add_session_routes(api::router& router, context& ctx);
void add_cluster_routes(api::router& router, context& ctx);
void add_domain_routes(api::router& router, context& ctx);
void add_vm_routes(api::router& router, context& ctx);
void add_esan_routes(api::router& router, context& ctx);

// Token → principal with its effective roles (own + groups'); "root" is the
// node-local superuser that a root shell mints from the cluster secret.
result<api::principal> authenticate(context& ctx, std::string_view token);

// Shared by the handlers.
using handler_fn = awaitable<api::response> (*)(context&, api::request_context&);
// Registers `fn` with `ctx` bound (a plain forwarding lambda, not a coroutine).
void add_route(api::router& router, context& ctx, http::verb verb, const char* pattern,
               api::access level, handler_fn fn);
api::response json_response(json body, unsigned status = 200);
// Submits a write and answers {"version": N} or the error.
awaitable<api::response> commit(context& ctx, domain::write_request request);
// api::verify_password (≈0.1 s of scrypt) on ctx.slow_work, so that logins
// do not stall corosync messages and other requests on the event loop.
awaitable<bool> verify_password_off_loop(context& ctx, std::string password, std::string encoded);
// An object's value as the API shows it (no password hashes, no fence
// device secrets: those only through /fence/devices, to admins).
json public_value(std::string_view kind, const json& value);
// A fence_device value with every secret option replaced by "********".
json redact_fence_device(json value);
// Registered before add_vm_routes: its /vms/{name}/migrate etc. come first.
void add_ha_routes(api::router& router, context& ctx);
// For an HA VM, `start` goes through the HA manager (answered here), and
// shutdown/poweroff first record that the VM is wanted stopped (nullopt: the
// caller goes on with the action itself). nullopt for everything else.
awaitable<std::optional<api::response>> ha_vm_action(context& ctx, api::request_context& r,
                                                     std::string action);

}  // namespace vcube::daemon
