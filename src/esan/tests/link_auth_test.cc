// The eSAN link authentication: both sides prove the key, and nothing less
// than the key gets through.
#include "esan/link_auth.h"

#include <gtest/gtest.h>

namespace vcube::esan::auth {
namespace {

const std::string key = "a cluster key of some length";

TEST(link_auth, RightKeyBothWays) {
  const std::string ns = random_nonce();
  const std::string nc = random_nonce();
  auto response = respond(key, challenge(ns), nc);
  ASSERT_TRUE(response) << response.err().message;
  EXPECT_EQ(response->size(), response_bytes);
  std::string seen_nonce;
  auto proof = check_response(key, ns, *response, seen_nonce);
  ASSERT_TRUE(proof) << proof.err().message;
  EXPECT_EQ(seen_nonce, nc);
  EXPECT_EQ(proof->size(), proof_bytes);
  EXPECT_TRUE(is_valid_proof(key, ns, nc, *proof));
}

TEST(link_auth, WrongKeyIsRefusedBothWays) {
  const std::string ns = random_nonce();
  const std::string nc = random_nonce();
  auto response = respond("another key entirely", challenge(ns), nc);
  ASSERT_TRUE(response);
  std::string seen_nonce;
  auto proof = check_response(key, ns, *response, seen_nonce);
  ASSERT_FALSE(proof);
  EXPECT_EQ(proof.err().code, errc::forbidden);
  // A server with another key cannot prove ours.
  auto good = respond(key, challenge(ns), nc);
  auto other_proof = check_response("another key entirely", ns, *good, seen_nonce);
  EXPECT_FALSE(other_proof);
  EXPECT_FALSE(is_valid_proof(key, ns, nc, std::string(proof_bytes, 'x')));
}

TEST(link_auth, AResponseIsBoundToItsChallenge) {
  const std::string nc = random_nonce();
  auto old = respond(key, challenge(random_nonce()), nc);
  ASSERT_TRUE(old);
  std::string seen_nonce;
  // Replayed against a new challenge.
  EXPECT_FALSE(check_response(key, random_nonce(), *old, seen_nonce));
}

TEST(link_auth, TheServerProofIsNotTheClientResponseReflected) {
  const std::string ns = random_nonce();
  const std::string nc = random_nonce();
  auto response = respond(key, challenge(ns), nc);
  ASSERT_TRUE(response);
  // Echoing the client's own MAC back does not prove the key.
  EXPECT_FALSE(is_valid_proof(key, ns, nc, response->substr(nonce_bytes)));
}

TEST(link_auth, MalformedMessages) {
  const std::string nc = random_nonce();
  EXPECT_FALSE(respond(key, "NBDMAGIC" + std::string(nonce_bytes, 'x'), nc));
  EXPECT_FALSE(respond(key, "VCESAUTH", nc));
  std::string seen_nonce;
  EXPECT_FALSE(check_response(key, random_nonce(), "short", seen_nonce));
  EXPECT_FALSE(check_response(key, random_nonce(), "", seen_nonce));
  EXPECT_TRUE(seen_nonce.empty());
}

TEST(link_auth, NoncesDiffer) {
  EXPECT_NE(random_nonce(), random_nonce());
  EXPECT_EQ(random_nonce().size(), nonce_bytes);
}

}  // namespace
}  // namespace vcube::esan::auth
