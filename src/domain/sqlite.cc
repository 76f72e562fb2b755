#include "domain/sqlite.h"

namespace vcube::domain::sqlite {
namespace {

error sqlite_error(sqlite3* db, const std::string& what) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string message = db ? sqlite3_errmsg(db) : "out of memory";
  return make_error(errc::internal,
                    what + ": " + message + " (sqlite code " + std::to_string(code) + ")");
}

}  // namespace

void statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

void statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(), int(text.size()), SQLITE_TRANSIENT);
}

void statement::bind(int index, int64_t number) {
  sqlite3_bind_int64(stmt_.get(), index, number);
}

result<bool> statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  return sqlite_error(sqlite3_db_handle(stmt_.get()), "database step failed");
}

status statement::run() {
  for (;;) {
    auto more = step();
    if (!more)
      return more.err();
    if (!*more)
      return ok_status();
  }
}

std::string statement::text(int column) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  int n = sqlite3_column_bytes(stmt_.get(), column);
  return p ? std::string(p, size_t(n)) : std::string();
}

int64_t statement::integer(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

result<database> database::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  database d;
  d.db_.reset(raw);
  if (rc != SQLITE_OK)
    return sqlite_error(raw, "cannot open domain database " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  return d;
}

status database::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK)
    return last_error("database statement failed");
  return ok_status();
}

result<statement> database::prepare(const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &raw, nullptr);
  if (rc != SQLITE_OK)
    return last_error("cannot prepare '" + sql + "'");
  return statement(raw);
}

error database::last_error(const std::string& what) const {
  return sqlite_error(db_.get(), what);
}

}  // namespace vcube::domain::sqlite
