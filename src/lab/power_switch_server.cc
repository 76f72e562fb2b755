#include "lab/power_switch_server.h"

#include "common/asio.h"  // first: fixes Boost 1.74's missing <utility>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <cstring>

#include "api/tls.h"
#include "api/tls_context.h"
#include "lab/power_switch_channel.h"
#include "lab/power_switch_state.h"

namespace vcube::lab {

namespace http = boost::beast::http;

struct power_switch::tls {
  asio::ssl::context context;
};

namespace {

constexpr int listen_backlog = 16;
constexpr std::size_t request_header_bytes_max = 8 * 1024;

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

error os_error(const std::string& what) {
  return make_error(errc::internal, what + ": " + strerror(errno));
}

// socket+bind+listen on 127.0.0.1:port inside a network namespace. On a
// thread of its own that ends right after: setns changes only the calling
// thread, and no other code of ours ever runs in the node's namespace. The
// socket stays in the namespace it was created in.
result<int> listen_in_namespace(const std::string& netns_path, int port) {
  result<int> out = make_error(errc::internal, "not run");
  std::thread([&] {
    int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
      out = os_error("cannot enter network namespace " + netns_path);
      if (ns >= 0)
        close(ns);
      return;
    }
    close(ns);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int yes = 1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, listen_backlog) != 0) {
      out = os_error("cannot listen on 127.0.0.1:" + std::to_string(port) + " in " + netns_path);
      if (fd >= 0)
        close(fd);
      return;
    }
    out = fd;
  }).join();
  return out;
}

result<asio::ssl::context> make_context() {
  // Self-signed and new at every start: fence_redfish runs with ssl_insecure=1.
  auto key = api::generate_key();
  if (!key)
    return key.err();
  auto cert = api::create_ca(*key, "lab power switch", 3652);
  if (!cert)
    return cert.err();
  return api::make_server_context(api::to_pem(*cert), api::to_pem(*key));
}

// Reads one request; the reply when it is malformed, nothing when the
// connection ended or timed out before a whole request came.
result<switch_request> read_request(tls_channel& channel, std::string& authorization) {
  boost::beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(request_header_bytes_max);
  parser.body_limit(request_body_bytes_max);
  boost::system::error_code ec;
  http::read(channel, buffer, parser, ec);
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return make_error(errc::too_large, "request too large");
  if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message)
    return make_error(errc::invalid_input, "malformed HTTP request: " + ec.message());
  if (ec)
    return make_error(errc::unavailable, ec.message());
  auto& request = parser.get();
  authorization = std::string(request[http::field::authorization]);
  return switch_request{std::string(request.method_string()), std::string(request.target()),
                        request.body()};
}

}  // namespace

power_switch::power_switch(power_switch_config config) : config_(std::move(config)) {}

power_switch::~power_switch() {
  stop();
}

status power_switch::start() {
  // Peers vanish mid-reply (a node switched off); that must not kill the switch.
  signal(SIGPIPE, SIG_IGN);
  auto context = make_context();
  if (!context)
    return context.err();
  tls_ = std::make_unique<tls>(tls{std::move(*context)});
  int node_count = static_cast<int>(config_.netns_paths.size());
  auto states = read_power_states(config_.state_file, node_count);
  if (!states)
    return states.err();
  states_ = std::move(*states);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0)
    return os_error("eventfd");
  for (const auto& path : config_.netns_paths) {
    auto fd = listen_in_namespace(path, config_.port);
    if (!fd) {
      stop();
      return fd.err();
    }
    listen_fds_.push_back(*fd);
  }
  for (int k = 1; k <= node_count; ++k)
    threads_.emplace_back(&power_switch::serve_node, this, k);
  log_note("listening on 127.0.0.1:" + std::to_string(config_.port) + " in n1..n" +
           std::to_string(node_count));
  return ok_status();
}

void power_switch::stop() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
  }
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
  for (int fd : listen_fds_)
    close(fd);
  listen_fds_.clear();
  if (stop_fd_ >= 0)
    close(stop_fd_);
  stop_fd_ = -1;
}

std::vector<power_state> power_switch::states() const {
  std::lock_guard lock(state_mutex_);
  return states_;
}

power_state power_switch::state_of(int k) const {
  std::lock_guard lock(state_mutex_);
  return states_[static_cast<std::size_t>(k - 1)];
}

void power_switch::set_state(int k, power_state state) {
  std::vector<power_state> now;
  {
    std::lock_guard lock(state_mutex_);
    states_[static_cast<std::size_t>(k - 1)] = state;
    now = states_;
  }
  auto written = write_power_states(config_.state_file, now);
  if (!written)
    log_note("cannot save the power states: " + written.err().message);
}

void power_switch::serve_node(int k) {
  int listen_fd = listen_fds_[static_cast<std::size_t>(k - 1)];
  for (;;) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      return;
    if (fds[1].revents & POLLIN)
      return;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    serve_connection(k, fd);
    close(fd);
  }
}

void power_switch::serve_connection(int k, int fd) {
  switch_log_entry entry;
  entry.from_node = k;
  if (state_of(k) == power_state::off) {
    entry.result = "dropped";
    log(entry);
    return;
  }
  tls_channel channel(tls_->context.native_handle(), fd, stop_fd_);
  channel.set_deadline(tls_channel::clock::now() + config_.request_timeout);
  std::string authorization;
  auto request = channel.handshake() ? read_request(channel, authorization)
                                     : result<switch_request>(make_error(errc::unavailable, ""));
  std::optional<switch_reply> reply;
  if (request)
    reply = execute(k, *request, authorization);
  else if (request.err().code == errc::too_large || request.err().code == errc::invalid_input)
    reply = error_reply(request.err().code == errc::too_large ? 413 : 400, request.err().message);
  if (!request) {
    entry.result = reply ? std::to_string(reply->status) : "closed";
    log(entry);
  }
  if (!reply)
    return;
  channel.set_deadline(tls_channel::clock::now() + config_.reply_timeout);
  if (channel.write_all(render_http_response(*reply)))
    channel.shutdown();
}

std::optional<switch_reply> power_switch::execute(int k, const switch_request& request,
                                                  const std::string& authorization) {
  std::lock_guard lock(request_mutex_);
  switch_log_entry entry;
  entry.from_node = k;
  entry.method = request.method;
  entry.path = request.target;
  // Waiting for its turn, the sender may have been switched off: it sends nothing more.
  if (state_of(k) == power_state::off) {
    entry.result = "dropped";
    log(entry);
    return std::nullopt;
  }
  switch_reply reply = unauthorized_reply();
  if (is_authorized(authorization, config_.username, config_.password)) {
    auto routed = route_switch_request(request, states());
    entry.system_node = routed.node;
    entry.reset = routed.reset;
    reply = std::move(routed.reply);
    if (routed.reset) {
      auto done = perform(routed.node, *routed.reset);
      if (!done)
        reply = error_reply(500, done.err().message);
    }
  }
  // Logged before the reply is sent: whoever saw the answer finds the line.
  entry.result = std::to_string(reply.status);
  log(entry);
  return reply;
}

status power_switch::perform(int k, reset_type type) {
  if (type != reset_type::on) {
    auto off = config_.power_off(k);
    if (!off)
      return off;
    set_state(k, power_state::off);
  }
  // An outlet already on stays on: the node is not booted a second time.
  if (state_after(type) == power_state::off || state_of(k) == power_state::on)
    return ok_status();
  set_state(k, power_state::on);
  return config_.power_on(k);
}

void power_switch::log(switch_log_entry entry) {
  if (!config_.log)
    return;
  entry.unix_ms = unix_now_ms();
  std::lock_guard lock(log_mutex_);
  *config_.log << format_switch_log_line(entry) << std::endl;
}

void power_switch::log_note(const std::string& text) {
  if (!config_.log)
    return;
  std::string time = format_log_time(unix_now_ms());
  std::lock_guard lock(log_mutex_);
  *config_.log << time << " switch: " << text << std::endl;
}

}  // namespace vcube::lab
