// A minimal RAII wrapper over the SQLite C API: a connection and prepared
// statements, with errors as values. Not thread-safe; one owner thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace vcube::domain::sqlite {

class statement {
 public:
  statement() = default;
  explicit statement(sqlite3_stmt* s) : stmt_(s, &sqlite3_finalize) {}

  // Resets and clears bindings so the statement can be reused.
  void reset();
  void bind(int index, std::string_view text);
  void bind(int index, int64_t number);
  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → error.
  result<bool> step();
  // Runs to completion (for writes).
  status run();
  std::string text(int column) const;
  int64_t integer(int column) const;

 private:
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt_{nullptr, &sqlite3_finalize};
};

class database {
 public:
  static result<database> open(const std::string& path);
  database(database&&) = default;
  database& operator=(database&&) = default;

  status exec(const std::string& sql);
  result<statement> prepare(const std::string& sql);
  error last_error(const std::string& what) const;
  sqlite3* handle() const { return db_.get(); }

 private:
  database() = default;
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_{nullptr, &sqlite3_close_v2};
};

}  // namespace vcube::domain::sqlite
