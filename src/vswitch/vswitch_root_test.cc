// placeholder, written next
#include <gtest/gtest.h>
