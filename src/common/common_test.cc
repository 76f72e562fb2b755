#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/json.h"

namespace vcube {
namespace {

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(n * 37);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
}

TEST(Base64, RefusesGarbage) {
  EXPECT_FALSE(base64_decode("abc").ok());
  EXPECT_FALSE(base64_decode("ab!d").ok());
  EXPECT_FALSE(base64_decode("a=bc").ok());
}

TEST(Json, MalformedTextIsAnErrorWithPosition) {
  auto r = parse_json("{\"a\": ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_input);
  EXPECT_NE(r.err().message.find("byte"), std::string::npos);
}

TEST(Json, UnknownFieldIsNamed) {
  auto s = reject_unknown_fields(json{{"mtu", 1}, {"colour", 2}}, {"mtu"}, "network");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.err().field, "network.colour");
}

}  // namespace
}  // namespace vcube
