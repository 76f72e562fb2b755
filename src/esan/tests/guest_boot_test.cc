// A real QEMU guest boots from a mirrored eSAN volume and writes to it: the
// firmware (SeaBIOS) loads the boot sector from the primary vcube-esand over
// NBD (virtio-blk), the boot sector writes itself to sector 1 through the
// BIOS disk service and reports on COM1; the write must then be on the peer's
// file (protocol C), byte for byte.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "env/files.h"
#include "env/process.h"
#include "esan/tests/esand_process.h"

namespace vcube::esan {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::esand_process;
using testing::free_port;
using testing::has_tool;
using testing::wait_until;

constexpr uint64_t volume_bytes = 4 << 20;

// 16-bit real mode at 0x7c00, DL = the boot drive:
//   xor ax,ax; mov ds,ax; mov es,ax; cld
//   mov ax,0x0301; mov cx,0x0002; xor dh,dh; mov bx,0x7c00; int 0x13  ; this sector → LBA 1
//   mov bl,0x10; adc bl,0                      ; 0x11 when the BIOS reported an error
//   mov dx,0x3f8; mov si,msg; print until NUL on COM1
//   mov dx,0xf4; mov al,bl; out dx,al          ; isa-debug-exit: QEMU exits 33 (or 35)
//   hlt; jmp $
std::string boot_sector() {
  const unsigned char code[] = {0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0xFC, 0xB8, 0x01, 0x03,
                                0xB9, 0x02, 0x00, 0x30, 0xF6, 0xBB, 0x00, 0x7C, 0xCD, 0x13,
                                0xB3, 0x10, 0x80, 0xD3, 0x00, 0xBA, 0xF8, 0x03, 0xBE, 0x30,
                                0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xBA,
                                0xF4, 0x00, 0x88, 0xD8, 0xEE, 0xF4, 0xEB, 0xFE};
  static_assert(sizeof code == 48);
  std::string sector(reinterpret_cast<const char*>(code), sizeof code);
  sector += "vcube: booted from an eSAN volume\n";
  sector.push_back('\0');
  sector.resize(510, '\0');
  sector += "\x55\xAA";
  return sector;
}

std::string bytes_at(const fs::path& file, uint64_t offset, size_t n) {
  std::ifstream in(file, std::ios::binary);
  std::string out(n, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(out.data(), static_cast<std::streamsize>(n));
  return out;
}

TEST(EsanGuestBoot, AGuestBootsFromAMirroredVolumeAndItsWritesReachThePeer) {
  for (const char* tool : {"qemu-system-x86_64", "qemu-io"})
    if (!has_tool(tool))
      GTEST_SKIP() << tool << " is not installed (Debian: qemu-system-x86, qemu-utils)";
  fs::path dir = fs::temp_directory_path() / ("vcube-esan-boot-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string port = free_port();
  std::vector<std::unique_ptr<esand_process>> sides;
  for (const char* side : {"a", "b"}) {
    fs::path data = dir / (std::string(side) + ".data");
    std::ofstream(data).close();
    fs::resize_file(data, volume_bytes);
    ASSERT_EQ(testing::create_meta((dir / (std::string(side) + ".meta")).string(), volume_bytes, 9,
                                   side[0] == 'a'),
              "");
    std::string mirror = "name=boot,data=" + data.string() +
                         ",meta=" + (dir / (std::string(side) + ".meta")).string() + "," +
                         (side[0] == 'a' ? "listen" : "peer") + "=127.0.0.1:" + port;
    sides.push_back(std::make_unique<esand_process>(
        std::vector<std::string>{"--mirror", mirror, "--unix",
                                 (dir / (std::string(side) + ".sock")).string()},
        (dir / (std::string(side) + ".log")).string()));
  }
  std::string socket = (dir / "a.sock").string();
  ASSERT_TRUE(testing::wait_for_socket(socket, 10s));
  const std::string sector = boot_sector();
  ASSERT_TRUE(env::write_file_atomic((dir / "sector.bin").string(), sector, 0644));
  // Until the peer is attached a write is only tracked; wait for replication.
  auto attached = [&] {
    auto log = env::read_file((dir / "a.log").string());
    return log && log->find("peer attached") != std::string::npos;
  };
  ASSERT_TRUE(wait_until(attached));
  std::string uri = "nbd+unix:///boot?socket=" + socket;
  auto installed = env::run(
      {"qemu-io", "-f", "raw", "-c", "write -s " + (dir / "sector.bin").string() + " 0 512", uri});
  ASSERT_TRUE(installed && installed->exit_code == 0) << (installed ? installed->err : "");

  auto booted = env::run({"qemu-system-x86_64", "-machine", "q35,accel=tcg", "-m", "64", "-display",
                          "none", "-nodefaults", "-no-user-config", "-serial", "stdio", "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=4", "-blockdev",
                          "driver=nbd,node-name=esan,server.type=unix,server.path=" + socket +
                              ",export=boot,reconnect-delay=5",
                          "-blockdev", "driver=raw,node-name=disk,file=esan", "-device",
                          "virtio-blk-pci,drive=disk,bootindex=0"},
                         {}, 120s);
  ASSERT_TRUE(booted) << booted.err().message;
  EXPECT_EQ(booted->exit_code, 33) << booted->out << booted->err;
  EXPECT_NE(booted->out.find("vcube: booted from an eSAN volume"), std::string::npos)
      << booted->out << booted->err;
  // The guest's write (its own sector to LBA 1) is on both files.
  EXPECT_EQ(bytes_at(dir / "a.data", 512, 512), sector);
  EXPECT_EQ(bytes_at(dir / "b.data", 512, 512), sector);
  sides.clear();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vcube::esan
