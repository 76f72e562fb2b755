#include "domain/store.h"

#include <openssl/evp.h>

#include <cstdio>

namespace vcube::domain {
namespace {

constexpr int64_t application_id = 0x76637562;  // "vcub"
constexpr int64_t format_version = 1;

const char* schema_sql = R"(
BEGIN;
PRAGMA application_id = 1986229602;
PRAGMA user_version = 1;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE objects(kind TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
                     value TEXT NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID;
CREATE TABLE staged(seq INTEGER PRIMARY KEY, change TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('version', 0);
COMMIT;
)";

error unusable(const std::string& path, const std::string& why) {
  return make_error(errc::internal, "domain database " + path + " is unusable: " + why +
                                        ". Move the file away and restart vcubed; the node "
                                        "then copies the configuration from the cluster");
}

result<int64_t> pragma_integer(sqlite::database& db, const std::string& pragma) {
  auto stmt = db.prepare("PRAGMA " + pragma);
  if (!stmt)
    return stmt.err();
  auto row = stmt->step();
  if (!row)
    return row.err();
  return *row ? stmt->integer(0) : 0;
}

// Creates the schema in a new file, or checks that an existing one is ours.
status check_format(sqlite::database& db, const std::string& path) {
  auto app = pragma_integer(db, "application_id");
  if (!app)
    return unusable(path, app.err().message);
  auto user_version = pragma_integer(db, "user_version");
  auto tables = db.prepare("SELECT count(*) FROM sqlite_master");
  if (!user_version || !tables)
    return unusable(path, "cannot read its header");
  auto row = tables->step();
  if (!row)
    return unusable(path, row.err().message);
  if (*app == 0 && tables->integer(0) == 0)
    return db.exec(schema_sql);
  if (*app != application_id)
    return unusable(
        path, "it is not a vcube domain database (application_id " + std::to_string(*app) + ")");
  if (*user_version != format_version)
    return unusable(path, "its format version " + std::to_string(*user_version) +
                              " is not supported (this vcubed reads version 1)");
  auto check = db.prepare("PRAGMA quick_check");
  if (!check)
    return unusable(path, check.err().message);
  auto first = check->step();
  if (!first || !*first || check->text(0) != "ok")
    return unusable(path, "SQLite integrity check failed");
  return ok_status();
}

}  // namespace

struct store::statements {
  sqlite::statement upsert, remove, clear_objects, add_staged, clear_staged, set_version;
};

store::store(sqlite::database db, std::unique_ptr<statements> stmts)
    : db_(std::move(db)), stmts_(std::move(stmts)) {}

store::~store() = default;

result<std::unique_ptr<store>> store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db)
    return unusable(path, db.err().message);
  if (auto s = check_format(*db, path); !s)
    return s.err();
  // WAL for crash safety with concurrent readers; FULL so a committed version
  // survives power loss (the version is what the sync protocol trusts).
  if (auto s = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !s)
    return unusable(path, s.err().message);
  auto stmts = std::make_unique<statements>();
  const std::pair<sqlite::statement*, const char*> sql[] = {
      {&stmts->upsert,
       "INSERT INTO objects(kind, name, version, value) VALUES (?1, ?2, ?3, ?4) "
       "ON CONFLICT(kind, name) DO UPDATE SET version = excluded.version, value = excluded.value"},
      {&stmts->remove, "DELETE FROM objects WHERE kind = ?1 AND name = ?2"},
      {&stmts->clear_objects, "DELETE FROM objects"},
      {&stmts->add_staged, "INSERT INTO staged(seq, change) VALUES (?1, ?2)"},
      {&stmts->clear_staged, "DELETE FROM staged"},
      {&stmts->set_version, "UPDATE meta SET value = ?1 WHERE key = 'version'"},
  };
  for (auto [target, text] : sql) {
    auto stmt = db->prepare(text);
    if (!stmt)
      return unusable(path, stmt.err().message);
    *target = std::move(*stmt);
  }
  std::unique_ptr<store> s(new store(std::move(*db), std::move(stmts)));
  if (auto loaded = s->load(); !loaded)
    return unusable(path, loaded.err().message);
  return s;
}

status store::load() {
  auto version = db_.prepare("SELECT value FROM meta WHERE key = 'version'");
  auto objects = db_.prepare("SELECT kind, name, version, value FROM objects");
  auto staged = db_.prepare("SELECT change FROM staged ORDER BY seq");
  if (!version || !objects || !staged)
    return db_.last_error("cannot read the database");
  auto row = version->step();
  if (!row || !*row)
    return make_error(errc::internal, "the version record is missing");
  version_ = uint64_t(version->integer(0));
  for (row = objects->step(); row && *row; row = objects->step()) {
    auto value = parse_json(objects->text(3));
    if (!value)
      return make_error(errc::internal, "object " + objects->text(0) + "/" + objects->text(1) +
                                            " holds malformed JSON");
    object o{objects->text(0), objects->text(1), std::move(*value), uint64_t(objects->integer(2))};
    objects_[o.kind][o.name] = std::move(o);
  }
  if (!row)
    return row.err();
  for (row = staged->step(); row && *row; row = staged->step()) {
    auto j = parse_json(staged->text(0));
    auto c = j ? change_from_json(*j) : result<change>(j.err());
    if (!c)
      return make_error(errc::internal, "a staged change is malformed: " + c.err().message);
    staged_.push_back(std::move(*c));
  }
  return row ? ok_status() : status(row.err());
}

std::optional<object> store::get(std::string_view kind, std::string_view name) const {
  auto k = objects_.find(kind);
  if (k == objects_.end())
    return std::nullopt;
  auto o = k->second.find(name);
  if (o == k->second.end())
    return std::nullopt;
  return o->second;
}

std::vector<object> store::list(std::string_view kind) const {
  std::vector<object> out;
  if (auto k = objects_.find(kind); k != objects_.end())
    for (const auto& [name, o] : k->second)
      out.push_back(o);
  return out;
}

status store::persist(state next) {
  auto fail = [&](const error& e) {
    (void)db_.exec("ROLLBACK");
    return make_error(errc::internal, "cannot write the domain database: " + e.message);
  };
  if (auto s = db_.exec("BEGIN IMMEDIATE"); !s)
    return make_error(errc::internal, "cannot write the domain database: " + s.err().message);
  if (next.is_full_rewrite) {
    stmts_->clear_objects.reset();
    if (auto s = stmts_->clear_objects.run(); !s)
      return fail(s.err());
    for (const auto& [kind, objects] : next.objects)
      for (const auto& [name, o] : objects)
        next.touched.emplace(kind, name);
  }
  for (const auto& [kind, name] : next.touched) {
    auto k = next.objects.find(kind);
    bool exists = k != next.objects.end() && k->second.count(name);
    auto& stmt = exists ? stmts_->upsert : stmts_->remove;
    stmt.reset();
    stmt.bind(1, kind);
    stmt.bind(2, name);
    if (exists) {
      const object& o = k->second.find(name)->second;
      stmt.bind(3, int64_t(o.version));
      stmt.bind(4, dump_compact(o.value));
    }
    if (auto s = stmt.run(); !s)
      return fail(s.err());
  }
  if (next.is_staged_changed || next.is_full_rewrite) {
    stmts_->clear_staged.reset();
    if (auto s = stmts_->clear_staged.run(); !s)
      return fail(s.err());
    for (size_t i = 0; i < next.staged.size(); ++i) {
      stmts_->add_staged.reset();
      stmts_->add_staged.bind(1, int64_t(i));
      stmts_->add_staged.bind(2, dump_compact(change_to_json(next.staged[i])));
      if (auto s = stmts_->add_staged.run(); !s)
        return fail(s.err());
    }
  }
  stmts_->set_version.reset();
  stmts_->set_version.bind(1, int64_t(next.version));
  if (auto s = stmts_->set_version.run(); !s)
    return fail(s.err());
  if (auto s = db_.exec("COMMIT"); !s)
    return fail(s.err());
  std::erase_if(next.objects, [](const auto& entry) { return entry.second.empty(); });
  objects_ = std::move(next.objects);
  staged_ = std::move(next.staged);
  version_ = next.version;
  checksum_cache_.reset();
  return ok_status();
}

std::string store::checksum() const {
  if (checksum_cache_)
    return *checksum_cache_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  // Length-prefixed fields keep the serialisation unambiguous.
  auto feed = [&](std::string_view field) {
    std::string header = std::to_string(field.size()) + ":";
    EVP_DigestUpdate(ctx.get(), header.data(), header.size());
    EVP_DigestUpdate(ctx.get(), field.data(), field.size());
  };
  feed("vcube-domain-1");
  feed(std::to_string(version_));
  for (const auto& [kind, objects] : objects_) {
    for (const auto& [name, o] : objects) {
      feed(kind);
      feed(name);
      feed(std::to_string(o.version));
      feed(dump_compact(o.value));
    }
  }
  feed("staged");
  for (const auto& c : staged_)
    feed(dump_compact(change_to_json(c)));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  checksum_cache_ = hex;
  return hex;
}

}  // namespace vcube::domain
