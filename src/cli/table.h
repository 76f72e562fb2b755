// Human-readable output: aligned text tables.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vcube::cli {

class table {
 public:
  explicit table(std::vector<std::string> header);
  void add(std::vector<std::string> row);
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace vcube::cli
