#include "cluster/corosync_conf.h"

#include <gtest/gtest.h>

#include "tests/golden/golden.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vcube::cluster {
namespace {

// Set VCUBE_UPDATE_GOLDEN=1 to rewrite the golden files from the current output.
std::string golden_path(const std::string& name) {
  return std::string(VCUBE_SOURCE_DIR) + "/tests/golden/corosync/" + name;
}

void expect_matches_golden(const std::string& text, const std::string& name) {
  testing::expect_matches_golden(text, golden_path(name));
}

corosync_config cluster_of(size_t node_count) {
  corosync_config c{"lab", 7, {}, 3000};
  for (uint32_t i = 1; i <= node_count; ++i)
    c.nodes.push_back({i, "node" + std::to_string(i), "10.42.0." + std::to_string(10 + i)});
  return c;
}

TEST(corosync_conf, one_node_matches_golden) {
  expect_matches_golden(render_corosync_conf(cluster_of(1)), "one_node.conf");
}

TEST(corosync_conf, two_nodes_match_golden_with_two_node) {
  std::string text = render_corosync_conf(cluster_of(2));
  EXPECT_NE(text.find("two_node: 1"), std::string::npos);
  expect_matches_golden(text, "two_nodes.conf");
}

TEST(corosync_conf, three_nodes_match_golden_without_two_node) {
  std::string text = render_corosync_conf(cluster_of(3));
  EXPECT_EQ(text.find("two_node"), std::string::npos);
  expect_matches_golden(text, "three_nodes.conf");
}

TEST(corosync_conf, node_order_does_not_change_the_text) {
  auto c = cluster_of(3);
  std::string expected = render_corosync_conf(c);
  std::swap(c.nodes[0], c.nodes[2]);
  EXPECT_EQ(render_corosync_conf(c), expected);
}

TEST(corosync_conf, every_key_and_block_opener_is_on_its_own_line) {
  std::istringstream lines(render_corosync_conf(cluster_of(2)));
  for (std::string line; std::getline(lines, line);) {
    size_t braces =
        std::count(line.begin(), line.end(), '{') + std::count(line.begin(), line.end(), '}');
    EXPECT_LE(braces, 1u) << line;
    if (braces == 1) {
      EXPECT_EQ(line.find(':'), std::string::npos) << line;
    }
  }
}

TEST(corosync_conf, renders_token_and_ipv6) {
  auto c = cluster_of(1);
  c.token_ms = 5000;
  c.nodes[0].address = "fd00::1";
  std::string text = render_corosync_conf(c);
  EXPECT_NE(text.find("    token: 5000\n"), std::string::npos);
  EXPECT_NE(text.find("    token_coefficient: 650\n"), std::string::npos);
  EXPECT_NE(text.find("        ring0_addr: fd00::1\n"), std::string::npos);
}

TEST(corosync_conf_validate, accepts_and_sorts_nodes) {
  auto c = cluster_of(3);
  std::swap(c.nodes[0], c.nodes[2]);
  auto v = validate_corosync_config(c);
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_EQ(v->nodes, cluster_of(3).nodes);
}

// Expects `c` to be refused with `field` named.
void expect_invalid(const corosync_config& c, const std::string& field) {
  auto v = validate_corosync_config(c);
  ASSERT_FALSE(v.ok()) << "accepted, expected an error on " << field;
  EXPECT_EQ(v.err().code, errc::invalid_input);
  EXPECT_EQ(v.err().field, field) << v.err().message;
  EXPECT_FALSE(v.err().message.empty());
}

TEST(corosync_conf_validate, refuses_bad_names) {
  for (const char* name : {"", "Node1", "node_1", "-node", "node 1", "nödé"}) {
    auto c = cluster_of(2);
    c.nodes[1].name = name;
    expect_invalid(c, "nodes[1].name");
  }
  auto c = cluster_of(1);
  c.nodes[0].name = std::string(64, 'a');
  expect_invalid(c, "nodes[0].name");
  c = cluster_of(1);
  c.cluster_name = "Lab";
  expect_invalid(c, "cluster_name");
}

TEST(corosync_conf_validate, refuses_bad_or_duplicate_ids) {
  auto c = cluster_of(2);
  c.nodes[0].node_id = 0;
  expect_invalid(c, "nodes[0].node_id");
  c.nodes[0].node_id = 65536;
  expect_invalid(c, "nodes[0].node_id");
  c = cluster_of(2);
  c.nodes[1].node_id = 1;
  expect_invalid(c, "nodes[1].node_id");
}

TEST(corosync_conf_validate, refuses_duplicate_names_and_addresses) {
  auto c = cluster_of(2);
  c.nodes[1].name = "node1";
  expect_invalid(c, "nodes[1].name");
  c = cluster_of(2);
  c.nodes[1].address = c.nodes[0].address;
  expect_invalid(c, "nodes[1].address");
}

TEST(corosync_conf_validate, refuses_non_literal_addresses) {
  for (const char* address :
       {"", "node1.example", "10.0.0", "10.0.0.256", "fd00:::1", " 10.0.0.1"}) {
    auto c = cluster_of(1);
    c.nodes[0].address = address;
    expect_invalid(c, "nodes[0].address");
  }
}

TEST(corosync_conf_validate, refuses_empty_or_too_many_nodes_and_bad_token) {
  auto c = cluster_of(0);
  expect_invalid(c, "nodes");
  c = cluster_of(corosync_nodes_max);
  EXPECT_TRUE(validate_corosync_config(c).ok());
  c.nodes.push_back({65000, "extra", "10.43.0.1"});
  expect_invalid(c, "nodes");
  c = cluster_of(1);
  c.token_ms = 10;
  expect_invalid(c, "token_ms");
  c.token_ms = 1000;
  c.token_coefficient_ms = 20000;
  expect_invalid(c, "token_coefficient_ms");
}

}  // namespace
}  // namespace vcube::cluster
