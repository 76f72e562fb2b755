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
#include <functional>
#include <span>

#include "common/error.h"

namespace vcube::esan {

// The end of a write started with start_write: called exactly once, on any
// thread, with what write() would have returned. It must not block, and it
// must not drop the last reference to the backend (hand it on instead).
using write_done = std::function<void(const status&)>;
// Runs a job on a thread that may block (the NBD server's thread pool).
using blocking_runner = std::function<void(std::function<void()>)>;

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
  // The same write started from the NBD server's event loop, which must not
  // wait: true when it is under way without blocking this thread (`done` was
  // taken, and runs when it completes; `data` must stay valid until then;
  // blocking work goes to `run`). false: it cannot start so now, `done` is
  // untouched and the caller uses write().
  virtual bool start_write(uint64_t /*offset*/, std::span<const std::byte> /*data*/,
                           bool /*is_fua*/, write_done& /*done*/, const blocking_runner& /*run*/) {
    return false;
  }
  // Everything completed before the call is durable when it returns.
  virtual status flush() = 0;
  // The range may be discarded; its contents afterwards are unspecified.
  virtual status trim(uint64_t offset, uint64_t length, bool is_fua) = 0;
  // The range reads as zeroes afterwards; `may_punch` allows deallocating it.
  virtual status write_zeroes(uint64_t offset, uint64_t length, bool may_punch, bool is_fua) = 0;
};

}  // namespace vcube::esan
