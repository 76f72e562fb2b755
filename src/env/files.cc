#include "env/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vcube::env {

result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? errc::not_found : errc::internal,
                      "cannot read " + path + ": " + strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

status write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return make_error(errc::internal, "cannot create " + tmp + ": " + strerror(errno));
  fchmod(fd, mode);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t w = write(fd, content.data() + done, content.size() - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      std::string why = strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return make_error(errc::internal, "cannot write " + path + ": " + why);
    }
    done += static_cast<size_t>(w);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return make_error(errc::internal, "cannot sync " + path + ": " + strerror(errno));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return make_error(errc::internal, "cannot rename to " + path + ": " + strerror(errno));
  }
  return ok_status();
}

status make_directories(const std::string& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec)
    return make_error(errc::internal, "cannot create " + path + ": " + ec.message());
  chmod(path.c_str(), mode);
  return ok_status();
}

bool file_exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

}  // namespace vcube::env
