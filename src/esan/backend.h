// Where an export's bytes live. The NBD server calls these from worker threads
// (never from the event loop), possibly several at once for one backend:
// implementations must be safe for concurrent calls on disjoint or
// overlapping ranges (overlapping writes may land in either order, as on a
// disk). Replication will wrap a backend in another backend.
//
// Errors use errc to say what an NBD client should hear: too_large → ENOSPC,
// forbidden → EPERM, invalid_input → EINVAL, anything else → EIO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"

namespace vcube::esan {

class backend {
 public:
  virtual ~backend() = default;

  virtual uint64_t size_bytes() const = 0;
  virtual bool is_read_only() const = 0;
  // Whether a client on another node (NBD over TCP) may use it now. A
  // mirror's secondary may not: its data may be stale, and writes are
  // refused there anyway.
  virtual bool may_serve_remotely() const { return true; }

  // Ranges are within size_bytes(); the server checked.
  virtual status read(uint64_t offset, std::span<std::byte> out) = 0;
  // With `is_fua` the data is durable when this returns.
  virtual status write(uint64_t offset, std::span<const std::byte> data, bool is_fua) = 0;
  // Everything completed before the call is durable when it returns.
  virtual status flush() = 0;
  // The range may be discarded; its contents afterwards are unspecified.
  virtual status trim(uint64_t offset, uint64_t length, bool is_fua) = 0;
  // The range reads as zeroes afterwards; `may_punch` allows deallocating it.
  virtual status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) = 0;
};

}  // namespace vcube::esan
