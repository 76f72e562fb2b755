#include <gtest/gtest.h>

#include "common/json.h"

namespace vcube {
namespace {

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
