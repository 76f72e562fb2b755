#include <gtest/gtest.h>

#include <filesystem>

#include "api/encoding.h"
#include "api/token.h"

namespace vcube::api {
namespace {

constexpr int64_t now = 1'767'225'600;

TEST(TokenTest, IssuedTokenVerifiesUntilItExpires) {
  token_signer signer(generate_auth_key());
  std::string token = signer.issue("alice", now + 3600);
  auto user = signer.verify(token, now);
  ASSERT_TRUE(user.ok()) << user.err().message;
  EXPECT_EQ(*user, "alice");
  auto late = signer.verify(token, now + 3600);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.err().code, errc::unauthorized);
  EXPECT_EQ(late.err().message, "token expired, log in again");
}

TEST(TokenTest, TamperedOrForeignTokensAreInvalid) {
  token_signer signer(generate_auth_key());
  token_signer other(generate_auth_key());
  std::string token = signer.issue("alice", now + 3600);
  EXPECT_EQ(other.verify(token, now).err().message, "invalid token");
  // Extend the expiry and keep the old MAC.
  std::string text = *base64_decode_url(token);
  std::string forged = text;
  forged.replace(forged.find(':') + 1, 10, std::to_string(now + 999999));
  EXPECT_EQ(signer.verify(base64_encode_url(forged), now).err().message, "invalid token");
  // Change the user.
  std::string bob = "bob" + text.substr(5);
  EXPECT_EQ(signer.verify(base64_encode_url(bob), now).err().message, "invalid token");
  // Flip one character anywhere.
  for (size_t i = 0; i < token.size(); i += 7) {
    std::string flipped = token;
    flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer.verify(flipped, now).ok()) << i;
  }
  EXPECT_FALSE(signer.verify("", now).ok());
  EXPECT_FALSE(signer.verify("not a token!", now).ok());
  EXPECT_FALSE(signer.verify(std::string(5000, 'A'), now).ok());
}

TEST(TokenTest, AuthKeyFileRoundTripsAndShortKeysAreRefused) {
  auto dir =
      std::filesystem::temp_directory_path() / ("vcube-token-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "auth.key").string();
  std::string key = generate_auth_key();
  EXPECT_EQ(key.size(), auth_key_bytes);
  ASSERT_TRUE(write_auth_key(key, path).ok());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto read = read_auth_key(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, key);
  ASSERT_TRUE(write_auth_key("short", path).ok());
  EXPECT_FALSE(read_auth_key(path).ok());
  EXPECT_FALSE(read_auth_key((dir / "missing").string()).ok());
  std::filesystem::remove_all(dir);
}

TEST(EncodingTest, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ(*base64_decode_std(base64_encode_std(bytes)), bytes);
    EXPECT_EQ(*base64_decode_url(base64_encode_url(bytes)), bytes);
    bytes += static_cast<char>(n * 37 + 250);
  }
  EXPECT_EQ(base64_encode_std("fo"), "Zm8=");
  EXPECT_EQ(base64_encode_url("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64_decode_std("Zm8").has_value());
  EXPECT_FALSE(base64_decode_std("Zm9=").has_value());  // non-zero trailing bits
  EXPECT_FALSE(base64_decode_url("Zm8=").has_value());
  EXPECT_EQ(hex_encode("\x01\xab"), "01ab");
}

}  // namespace
}  // namespace vcube::api
