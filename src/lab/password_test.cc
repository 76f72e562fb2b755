#include "lab/password.h"

#include <gtest/gtest.h>

#include <cctype>

namespace vcube::lab {
namespace {

TEST(lab_password, has_the_length_and_alphabet_and_differs) {
  auto a = generate_password(24);
  auto b = generate_password(24);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->size(), 24u);
  for (char c : *a)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << c;
  EXPECT_NE(*a, *b);  // 62^24 possibilities
}

}  // namespace
}  // namespace vcube::lab
