// The console of a real QEMU (TCG, no disks, paused with -S): an RFB
// handshake through the server's WebSocket to QEMU's VNC unix socket.
// Skips when qemu-system-x86_64 is absent.
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "api/websocket_fixture.h"

namespace vcube::api::testing {
namespace {

bool has_qemu() {
  return std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") == 0;
}

int read_pid(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  in >> pid;
  return pid;
}

class console_qemu_test : public websocket_test {
 protected:
  ~console_qemu_test() override {
    if (pid_ > 0)
      ::kill(pid_, SIGKILL);
  }
  // Starts a daemonized QEMU whose VNC listens on vnc_path(); the pid when it did.
  int start_qemu() {
    std::string command =
        "qemu-system-x86_64 -accel tcg -machine q35 -m 64 -nodefaults "
        "-display none -device VGA -S -vnc unix:" +
        vnc_path() + " -pidfile " + dir_ + "/qemu.pid -daemonize 2>" + dir_ + "/qemu.err";
    if (std::system(command.c_str()) != 0)
      return 0;
    pid_ = read_pid(dir_ + "/qemu.pid");
    return pid_;
  }
  int pid_ = 0;
};

TEST_F(console_qemu_test, RfbHandshakeWithQemu) {
  if (!has_qemu())
    GTEST_SKIP() << "qemu-system-x86_64 is not installed";
  ASSERT_GT(start_qemu(), 0) << "QEMU did not start; see " << dir_ << "/qemu.err";
  unsigned short port = start_relay();
  auto c = connect(port, "/api/v1/vms/vm1/console?token=" + token_for("viewer"), std::nullopt);
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ((*c)->subprotocol, "binary");
  auto init = run(rfb_handshake((*c)->ws));
  ASSERT_TRUE(init.ok()) << init.err().message;
  EXPECT_EQ(init->version, "RFB 003.008\n");
  EXPECT_GT(init->width, 0u);
  EXPECT_GT(init->height, 0u);
  EXPECT_EQ(init->name, "QEMU");
}

}  // namespace
}  // namespace vcube::api::testing
