// A mirrored volume's metadata file: the metadata block (volume_meta.h) at
// offset 0, the region bitmap from offset 4096, then (4 KiB aligned) two
// slots of the activity log (activity_log.h), written alternately so that a
// torn record leaves the previous one. The thin shell over the
// pure codecs: what it reports as persisted is on stable storage (pwrite +
// fdatasync) when the call returns, so the data plane may acknowledge a
// write only after mark() has returned for it (docs/esan.md).
#pragma once

#include <memory>
#include <string>

#include "esan/activity_log.h"
#include "esan/region_bitmap.h"
#include "esan/volume_meta.h"

namespace vcube::esan {

class meta_file {
 public:
  // A new file for a volume of `size_bytes` (refuses to overwrite one):
  // generations zero, not consistent, clean bitmap.
  static result<std::unique_ptr<meta_file>> create(const std::string& path, uint64_t size_bytes,
                                                   uint32_t region_bytes);
  // An existing file; a damaged or foreign one is refused with the reason.
  static result<std::unique_ptr<meta_file>> open(const std::string& path);
  ~meta_file();
  meta_file(const meta_file&) = delete;
  meta_file& operator=(const meta_file&) = delete;

  const volume_meta& meta() const { return meta_; }
  const region_bitmap& bitmap() const { return bitmap_; }
  // The newest valid activity log record; nullopt when neither slot holds
  // one (a file from before the log, or both torn).
  const std::optional<al_record>& activity() const { return al_; }
  // Writes the next record (its seq is set here) and syncs it.
  status write_activity(al_record record);

  // Writes and syncs the metadata block.
  status set_meta(const volume_meta& meta);
  // Marks the regions [offset, offset + length) touches; new bits are written
  // and synced before it returns.
  status mark(uint64_t offset, uint64_t length);
  // Clears a copied region in memory; flush_bitmap() persists the clears
  // (a set bit that is lost only makes a resync copy a region again).
  void clear(uint64_t region);
  status flush_bitmap();
  // A larger volume: the bitmap grows (new regions clean) and is written
  // first, then the block with the new size; a crash in between leaves the
  // old size, whose bitmap is a prefix of the new one.
  status grow(uint64_t size_bytes);

 private:
  meta_file(int fd, std::string path, volume_meta meta, region_bitmap bitmap);
  status write_at(uint64_t offset, const std::string& bytes);
  // Writes the 4 KiB bitmap pages holding words [first_word, last_word].
  status write_bitmap_pages(uint64_t first_word, uint64_t last_word);
  uint64_t activity_at() const;  // the first of the two slots
  void read_activity();

  int fd_;
  std::string path_;
  volume_meta meta_;
  region_bitmap bitmap_;
  std::optional<al_record> al_;
  uint64_t al_seq_ = 0;
  bool is_unsynced_ = false;  // a bitmap write failed: the next mark() rewrites it all
};

}  // namespace vcube::esan
