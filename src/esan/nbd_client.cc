#include "esan/nbd_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "esan/link_auth.h"
#include "esan/nbd_protocol.h"
#include "esan/tcp_liveness.h"

namespace vcube::esan {
namespace {

using clock = std::chrono::steady_clock;

error broken(const std::string& what) {
  return make_error(errc::unavailable, what);
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Waits until `fd` is ready for `events` or `limit` passes.
bool wait_ready(int fd, short events, clock::time_point limit) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(limit - clock::now()).count();
    if (left <= 0)
      return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0)
      return true;
    if (n < 0 && errno != EINTR)
      return false;
  }
}

result<int> dial(const tcp_endpoint& server, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(server.port);
  if (::getaddrinfo(server.address.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    return broken(server.address + " is not an IP address");
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  // errno read at once: freeaddrinfo, allocations and poll may change it.
  int error = fd < 0 ? errno : 0;
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0)
    error = errno;
  ::freeaddrinfo(found);
  if (fd < 0)
    return broken(std::string("socket: ") + std::strerror(error));
  if (error == EINPROGRESS) {
    error = ETIMEDOUT;
    if (wait_ready(fd, POLLOUT, clock::now() + timeout)) {
      socklen_t length = sizeof error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    }
  }
  if (error != 0) {
    ::close(fd);
    return broken("cannot connect to " + server.address + ":" + port + ": " + std::strerror(error));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  enable_tcp_liveness(fd);
  return fd;
}

}  // namespace

nbd_client::nbd_client(int fd, nbd_client_options options)
    : fd_(fd), options_(std::move(options)), timeout_(options_.io_timeout_ms) {}

nbd_client::~nbd_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

result<std::unique_ptr<nbd_client>> nbd_client::connect(const tcp_endpoint& server,
                                                        const std::string& export_name,
                                                        const nbd_client_options& options) {
  auto fd = dial(server, options.connect_timeout_ms);
  if (!fd)
    return fd.err();
  std::unique_ptr<nbd_client> c(new nbd_client(*fd, options));
  // A server that is not an eSAN server must not hold us for a whole I/O timeout.
  c->timeout_ = options.connect_timeout_ms;
  if (!options.auth_key.empty())
    if (auto s = c->authenticate(); !s)
      return s.err();
  if (auto s = c->negotiate(export_name); !s)
    return s.err();
  c->timeout_ = options.io_timeout_ms;
  return c;
}

status nbd_client::send_all(std::string_view bytes) {
  const auto limit = clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN && wait_ready(fd_, POLLOUT, limit))
      continue;
    return broken(n < 0 && errno != EAGAIN ? std::string("send: ") + std::strerror(errno)
                                           : "send timed out");
  }
  return ok_status();
}

status nbd_client::receive(std::span<std::byte> out) {
  const auto limit = clock::now() + timeout_;
  size_t at = 0;
  while (at < out.size()) {
    const ssize_t n = ::recv(fd_, out.data() + at, out.size() - at, 0);
    if (n > 0) {
      at += static_cast<size_t>(n);
      continue;
    }
    if (n == 0)
      return broken("the server closed the connection");
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN && wait_ready(fd_, POLLIN, limit))
      continue;
    return broken(errno == EAGAIN ? "no answer from the server in time"
                                  : std::string("recv: ") + std::strerror(errno));
  }
  return ok_status();
}

result<std::string> nbd_client::receive_string(size_t n) {
  std::string out(n, '\0');
  if (auto s = receive({reinterpret_cast<std::byte*>(out.data()), n}); !s)
    return s.err();
  return out;
}

status nbd_client::authenticate() {
  auto challenge = receive_string(auth::challenge_bytes);
  if (!challenge)
    return challenge.err();
  const std::string client_nonce = auth::random_nonce();
  auto response = auth::respond(options_.auth_key, *challenge, client_nonce);
  if (!response)
    return response.err();
  if (auto s = send_all(*response); !s)
    return s;
  const std::string server_nonce = challenge->substr(auth::magic.size());
  auto proof = receive_string(auth::proof_bytes);
  if (!proof)
    return make_error(errc::forbidden, "the server refused our key (" + proof.err().message + ")");
  if (!auth::is_valid_proof(options_.auth_key, server_nonce, client_nonce, *proof))
    return make_error(errc::forbidden, "the server does not know the cluster's key");
  return ok_status();
}

// Fixed newstyle: greeting, client flags, NBD_OPT_GO; the export's size
// comes in NBD_INFO_EXPORT, then NBD_REP_ACK enters transmission.
status nbd_client::negotiate(const std::string& export_name) {
  auto greeting = receive_string(18);
  if (!greeting)
    return greeting.err();
  const auto g = bytes_of(*greeting);
  if (nbd::get_u64(g, 0) != nbd::magic_nbd || nbd::get_u64(g, 8) != nbd::magic_option ||
      (nbd::get_u16(g, 16) & nbd::flag_fixed_newstyle) == 0)
    return broken("the server does not speak fixed newstyle NBD");
  std::string out;
  nbd::put_u32(out, nbd::flag_c_fixed_newstyle | nbd::flag_c_no_zeroes);
  nbd::put_u64(out, nbd::magic_option);
  nbd::put_u32(out, static_cast<uint32_t>(nbd::option::go));
  nbd::put_u32(out, static_cast<uint32_t>(4 + export_name.size() + 2));
  nbd::put_u32(out, static_cast<uint32_t>(export_name.size()));
  out += export_name;
  nbd::put_u16(out, 0);  // no information requests: NBD_INFO_EXPORT comes anyway
  if (auto s = send_all(out); !s)
    return s;
  for (int replies = 0; replies < 64; ++replies) {
    auto head = receive_string(20);
    if (!head)
      return head.err();
    const auto h = bytes_of(*head);
    const uint32_t type = nbd::get_u32(h, 12);
    const uint32_t length = nbd::get_u32(h, 16);
    if (nbd::get_u64(h, 0) != nbd::magic_option_reply || length > options_.option_reply_bytes_max)
      return broken("a malformed option reply");
    auto data = receive_string(length);
    if (!data)
      return data.err();
    if (type == static_cast<uint32_t>(nbd::option_reply::ack))
      return size_bytes_ > 0 ? ok_status() : broken("the server did not say the export's size");
    if ((type & nbd::rep_error_bit) != 0)
      return make_error(errc::unavailable, "the server does not offer " + export_name + ": " +
                                               (data->empty() ? "refused" : *data));
    const auto d = bytes_of(*data);
    if (type == static_cast<uint32_t>(nbd::option_reply::info) && d.size() >= 12 &&
        nbd::get_u16(d, 0) == static_cast<uint16_t>(nbd::info_type::export_info))
      size_bytes_ = nbd::get_u64(d, 2);
  }
  return broken("too many option replies");
}

result<uint32_t> nbd_client::call(const nbd::request& r, std::span<const std::byte> payload,
                                  std::span<std::byte> out) {
  nbd::request sent = r;
  sent.cookie = next_cookie_++;
  std::string wire = nbd::encode_request(sent);
  if (sent.has_payload())
    wire.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  if (auto s = send_all(wire); !s)
    return s.err();
  std::array<std::byte, nbd::simple_reply_header_bytes> head{};
  if (auto s = receive(head); !s)
    return s.err();
  if (nbd::get_u32(head, 0) != nbd::magic_simple_reply || nbd::get_u64(head, 8) != sent.cookie)
    return broken("a malformed reply");
  const uint32_t error = nbd::get_u32(head, 4);
  if (error == 0 && sent.type == nbd::command::read)
    if (auto s = receive(out.first(sent.length)); !s)
      return s.err();
  return error;
}

}  // namespace vcube::esan
