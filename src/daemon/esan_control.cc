#include "daemon/esan_control.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vcube::daemon {
namespace {

constexpr size_t reply_bytes_max = 1 << 20;

errc code_of(const std::string& name) {
  if (name == "invalid_input")
    return errc::invalid_input;
  if (name == "not_found")
    return errc::not_found;
  if (name == "conflict")
    return errc::conflict;
  if (name == "unavailable")
    return errc::unavailable;
  return errc::internal;
}

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events`, at most until `until`.
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point until) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0)
      return true;
    if (n < 0 && errno != EINTR)
      return false;
  }
}

}  // namespace

result<json> esan_call(const std::string& socket_path, const json& request,
                       std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::string op = request.value("op", "?");
  auto unavailable = [&](const std::string& why) {
    return make_error(errc::unavailable, "vcube-esand (" + socket_path + "): " + op + ": " + why);
  };
  socket_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path)
    return unavailable("socket path too long");
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return unavailable(std::strerror(errno));
  std::string line = request.dump() + "\n";
  size_t sent = 0;
  while (sent < line.size()) {
    if (!wait_ready(fd.get(), POLLOUT, until))
      return unavailable("no answer in time");
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return unavailable(std::strerror(errno));
    sent += n > 0 ? size_t(n) : 0;
  }
  std::string reply;
  while (reply.find('\n') == std::string::npos) {
    if (reply.size() > reply_bytes_max)
      return unavailable("reply longer than 1 MiB");
    if (!wait_ready(fd.get(), POLLIN, until))
      return unavailable("no answer in time");
    char buffer[16384];
    ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0)
      return unavailable("closed the connection without a reply");
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return unavailable(std::strerror(errno));
    if (n > 0)
      reply.append(buffer, size_t(n));
  }
  json parsed = json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ok") || !parsed["ok"].is_boolean())
    return unavailable("answered something that is not a reply");
  if (!parsed["ok"].get<bool>())
    return make_error(code_of(parsed.value("code", "")),
                      "vcube-esand: " + op + ": " + parsed.value("error", "refused"));
  parsed.erase("ok");
  return parsed;
}

}  // namespace vcube::daemon
