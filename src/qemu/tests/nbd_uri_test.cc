#include "qemu/nbd_uri.h"

#include <gtest/gtest.h>

namespace vcube::qemu {
namespace {

TEST(nbd_uri, tcp_with_port_and_export) {
  auto a = parse_nbd_uri("nbd://node2.lab:10900/vol-7");
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_FALSE(a->is_unix);
  EXPECT_EQ(a->host, "node2.lab");
  EXPECT_EQ(a->port, 10900);
  EXPECT_EQ(a->export_name, "vol-7");
}

TEST(nbd_uri, tcp_default_port_and_no_export) {
  auto a = parse_nbd_uri("nbd://10.0.0.2");
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_EQ(a->port, nbd_port_default);
  EXPECT_EQ(a->export_name, "");
}

TEST(nbd_uri, ipv6_host_in_brackets) {
  auto a = parse_nbd_uri("nbd://[fd00::2]:10900/x");
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_EQ(a->host, "fd00::2");
  EXPECT_EQ(a->port, 10900);
}

TEST(nbd_uri, unix_socket) {
  auto a = parse_nbd_uri("nbd+unix:///vol-7?socket=/run/vcube/esand.sock");
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_TRUE(a->is_unix);
  EXPECT_EQ(a->socket_path, "/run/vcube/esand.sock");
  EXPECT_EQ(a->export_name, "vol-7");
}

TEST(nbd_uri, bad_uris_are_refused) {
  for (const char* uri :
       {"nbd://", "nbd://host:0/x", "nbd://host:65536/x", "nbd://host:/x", "nbd://host:1a/x",
        "nbd://[fd00::2/x", "nbd://[::1]x/y", "nbd://ho st/x", "nbd://h/x?socket=/s",
        "nbd+unix://host/x?socket=/s", "nbd+unix:///x", "nbd+unix:///x?socket=rel",
        "nbd+unix:///x?tls=on", "nbd+tcp://h/x", "nbd://h/x\n"}) {
    auto a = parse_nbd_uri(uri);
    EXPECT_FALSE(a.ok()) << uri;
    if (!a.ok()) {
      EXPECT_EQ(a.err().code, errc::invalid_input);
    }
  }
}

}  // namespace
}  // namespace vcube::qemu
