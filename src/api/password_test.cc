#include <gtest/gtest.h>

#include <chrono>

#include "api/password.h"

namespace vcube::api {
namespace {

// Cheap parameters keep the functional tests fast; the default cost has its own test.
constexpr scrypt_params cheap{10, 8, 1};

TEST(PasswordTest, VerifiesTheRightPasswordOnly) {
  std::string hash = hash_password("correct horse", cheap);
  EXPECT_EQ(hash.rfind("$scrypt$ln=10,r=8,p=1$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct horsE", hash));
  EXPECT_FALSE(verify_password("", hash));
}

TEST(PasswordTest, SaltsDiffer) {
  std::string a = hash_password("same", cheap);
  std::string b = hash_password("same", cheap);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password("same", a));
  EXPECT_TRUE(verify_password("same", b));
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  std::string good = hash_password("pw", cheap);
  EXPECT_FALSE(verify_password("pw", ""));
  EXPECT_FALSE(verify_password("pw", "pw"));
  EXPECT_FALSE(verify_password("pw", "$scrypt$"));
  EXPECT_FALSE(verify_password("pw", "$bcrypt" + good.substr(7)));
  std::string truncated = good.substr(0, good.size() - 8);
  EXPECT_FALSE(verify_password("pw", truncated));
  std::string bad_params = good;
  bad_params.replace(bad_params.find("ln=10"), 5, "ln=99");
  EXPECT_FALSE(verify_password("pw", bad_params));
  EXPECT_FALSE(verify_password("pw", good + "$extra"));
  std::string bad_base64 = good;
  bad_base64[bad_base64.size() - 3] = '!';
  EXPECT_FALSE(verify_password("pw", bad_base64));
}

TEST(PasswordTest, DefaultCostIsBoundedAndReported) {
  auto start = std::chrono::steady_clock::now();
  std::string hash = hash_password("pw");
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(hash.rfind("$scrypt$ln=15,r=8,p=1$", 0), 0u);
  EXPECT_TRUE(verify_password("pw", hash));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  RecordProperty("hash_ms", static_cast<int>(ms));
  std::printf("scrypt ln=15 r=8 p=1: %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 1000);  // a sanity bound that tolerates a loaded machine
}

}  // namespace
}  // namespace vcube::api
