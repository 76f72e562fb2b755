#include "qemu/vm_watch.h"

#include "qemu/vm_process.h"

namespace vcube::qemu {

template <class Step>
void vm_watch::apply(Step step) {
  const vm_run_state state_before = tracker_.state();
  const std::string reason_before = tracker_.reason();
  step(tracker_);
  const bool is_changed = tracker_.state() != state_before || tracker_.reason() != reason_before;
  if (is_changed && on_change_)
    on_change_(tracker_.state(), tracker_.reason());
}

void vm_watch::on_event(const qmp_event& event) {
  apply([&event](vm_state_tracker& t) { t.on_event(event); });
}

void vm_watch::on_query_status(std::string_view qemu_status) {
  apply([qemu_status](vm_state_tracker& t) { t.on_query_status(qemu_status); });
}

void vm_watch::refresh() {
  if (tracker_.is_gone() || !is_qmp_drained_ || is_qemu_alive(pid_, pid_file_))
    return;
  apply([](vm_state_tracker& t) { t.on_qemu_gone(); });
}

void vm_watch::on_qmp_gone(asio::any_io_executor executor) {
  is_qmp_drained_ = true;
  refresh();
  if (!tracker_.is_gone())
    asio::co_spawn(executor, confirm_exit(shared_from_this()), asio::detached);
}

// QEMU closes QMP a moment before its process ends; poll until it has.
awaitable<void> vm_watch::confirm_exit(std::shared_ptr<vm_watch> self) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + exit_confirm_limit;
  while (!self->tracker_.is_gone() && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(pid_poll_interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    self->refresh();
  }
}

}  // namespace vcube::qemu
