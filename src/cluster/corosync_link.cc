#include "cluster/corosync_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "cluster/corosync_link_impl.h"

namespace vcube::cluster {

using namespace link_detail;

// ---- C callbacks: only record what happened (they run inside *_dispatch). ----

corosync_link::impl* corosync_link::impl::from_cpg(cpg_handle_t handle) {
  void* context = nullptr;
  cpg_context_get(handle, &context);
  return static_cast<impl*>(context);
}

void corosync_link::impl::on_cpg_deliver(cpg_handle_t handle, const cpg_name*, uint32_t node_id,
                                         uint32_t, void* msg, size_t msg_len) {
  impl* self = from_cpg(handle);
  link_event event;
  event.what = link_event::kind::message;
  event.from_node_id = node_id;
  event.payload.assign(static_cast<const char*>(msg), msg_len);
  self->events.push_back(std::move(event));
}

void corosync_link::impl::on_cpg_confchg(cpg_handle_t handle, const cpg_name*,
                                         const cpg_address* members, size_t member_count,
                                         const cpg_address*, size_t, const cpg_address*, size_t) {
  link_event event;
  event.what = link_event::kind::membership;
  for (size_t i = 0; i < member_count; ++i)
    event.node_ids.push_back(members[i].nodeid);
  from_cpg(handle)->events.push_back(std::move(event));
}

void corosync_link::impl::on_quorum_notify(votequorum_handle_t handle, uint64_t, uint32_t quorate,
                                           uint32_t, votequorum_node_t[]) {
  void* context = nullptr;
  votequorum_context_get(handle, &context);
  link_event event;
  event.what = link_event::kind::quorum;
  event.is_quorate = quorate != 0;
  static_cast<impl*>(context)->events.push_back(std::move(event));
}

void corosync_link::impl::on_expected_votes_notify(votequorum_handle_t handle, uint64_t, uint32_t) {
  void* context = nullptr;
  votequorum_context_get(handle, &context);
  auto* self = static_cast<impl*>(context);
  link_event event;
  event.what = link_event::kind::quorum;
  event.is_quorate = self->quorum.is_quorate;  // refresh_quorum reads the rest
  self->events.push_back(std::move(event));
}

// ---- connection life cycle ----

void corosync_link::impl::start() {
  if (is_running)
    return;
  is_running = true;
  reconnect_delay = reconnect_delay_min;
  connect();
}

void corosync_link::impl::stop() {
  if (!is_running)
    return;
  is_running = false;
  reconnect_timer.cancel();
  close_handles(/*should_leave=*/true);
  is_connected = false;
  members.clear();
  quorum = {};
  events.clear();
}

void corosync_link::impl::connect() {
  if (auto why = open_handles()) {
    close_handles(/*should_leave=*/false);
    spdlog::debug("corosync: cannot connect ({}); retrying in {} ms", *why,
                  reconnect_delay.count());
    schedule_reconnect();
    return;
  }
  is_connected = true;
  reconnect_delay = reconnect_delay_min;
  spdlog::info("corosync: connected as node {}, joined group {}", local_node_id, group);
  wait_cpg();
  wait_votequorum();
  uint64_t gen = generation;
  if (callbacks.on_connection)
    callbacks.on_connection(true);
  if (gen != generation)
    return;  // the callback stopped the link
  refresh_quorum(false);
  if (gen == generation)
    flush();
}

cpg_name corosync_link::impl::group_name() const {
  cpg_name name{};
  name.length = static_cast<uint32_t>(group.size());
  memcpy(name.value, group.data(), group.size());
  return name;
}

// Opens every handle; on failure returns why (the caller closes what opened).
std::optional<std::string> corosync_link::impl::open_handles() {
  cmap_handle_t cmap_handle = 0;
  if (cs_error_t rc = cmap_initialize(&cmap_handle); rc != CS_OK)
    return cs_message("cmap_initialize", rc);
  cmap = cmap_handle;

  cpg_model_v1_data_t model{};
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = &impl::on_cpg_deliver;
  model.cpg_confchg_fn = &impl::on_cpg_confchg;
  cpg_handle_t cpg_handle = 0;
  cs_error_t rc = cpg_model_initialize(&cpg_handle, CPG_MODEL_V1,
                                       reinterpret_cast<cpg_model_data_t*>(&model), this);
  if (rc != CS_OK)
    return cs_message("cpg_model_initialize", rc);
  cpg = cpg_handle;
  if (rc = cpg_local_get(*cpg, &local_node_id); rc != CS_OK)
    return cs_message("cpg_local_get", rc);
  cpg_name name = group_name();
  if (rc = cpg_join(*cpg, &name); rc != CS_OK)
    return cs_message("cpg_join", rc);

  votequorum_callbacks_t vq_callbacks{};
  vq_callbacks.votequorum_quorum_notify_fn = &impl::on_quorum_notify;
  vq_callbacks.votequorum_expectedvotes_notify_fn = &impl::on_expected_votes_notify;
  votequorum_handle_t vq_handle = 0;
  if (rc = votequorum_initialize(&vq_handle, &vq_callbacks); rc != CS_OK)
    return cs_message("votequorum_initialize", rc);
  votequorum = vq_handle;
  votequorum_context_set(*votequorum, this);
  if (rc = votequorum_trackstart(*votequorum, 0, CS_TRACK_CHANGES); rc != CS_OK)
    return cs_message("votequorum_trackstart", rc);

  int fd = -1;
  if (rc = cpg_fd_get(*cpg, &fd); rc != CS_OK)
    return cs_message("cpg_fd_get", rc);
  cpg_fd.emplace(io, fd);
  if (rc = votequorum_fd_get(*votequorum, &fd); rc != CS_OK)
    return cs_message("votequorum_fd_get", rc);
  votequorum_fd.emplace(io, fd);
  return std::nullopt;
}

void corosync_link::impl::close_handles(bool should_leave) {
  ++generation;
  retry_timer.cancel();
  is_retry_pending = false;
  // Deregister from the reactor before the libraries close the fds.
  if (cpg_fd)
    cpg_fd->release();
  cpg_fd.reset();
  if (votequorum_fd)
    votequorum_fd->release();
  votequorum_fd.reset();
  if (cpg && should_leave && is_connected) {
    cpg_name name = group_name();
    cpg_leave(*cpg, &name);
  }
  if (cpg)
    cpg_finalize(*cpg);
  cpg.reset();
  if (votequorum)
    votequorum_finalize(*votequorum);
  votequorum.reset();
  if (cmap)
    cmap_finalize(*cmap);
  cmap.reset();
}

void corosync_link::impl::lose_connection(const std::string& why) {
  bool was_connected = is_connected;
  bool was_quorate = quorum.is_quorate;
  close_handles(/*should_leave=*/false);
  is_connected = false;
  members.clear();
  quorum = {};
  events.clear();
  spdlog::warn("corosync: connection lost ({}); reconnecting", why);
  schedule_reconnect();
  if (!was_connected)
    return;
  uint64_t gen = generation;
  if (callbacks.on_connection)
    callbacks.on_connection(false);
  if (gen == generation && was_quorate && callbacks.on_quorum)
    callbacks.on_quorum(quorum);
}

void corosync_link::impl::schedule_reconnect() {
  reconnect_timer.expires_after(reconnect_delay);
  reconnect_timer.async_wait(guarded([this](const auto&) { connect(); }));
  reconnect_delay = std::min(reconnect_delay * 2, reconnect_delay_max);
}

}  // namespace vcube::cluster
