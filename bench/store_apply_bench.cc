// The local part of a domain write: store::apply of a one-object change, on a
// SQLite file (WAL, synchronous=FULL: one fsync per write) side by side with
// an in-memory database (no disk), so the cost of durability shows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "domain/store.h"

namespace {

using namespace vcube;

void apply_one_host(benchmark::State& state, const std::string& path) {
  auto store = domain::store::open(path);
  if (!store) {
    state.SkipWithError(store.err().message.c_str());
    return;
  }
  uint64_t i = 0;
  for (auto _ : state) {
    domain::change c{domain::change::op_type::put, "host", "bench-" + std::to_string(i++ % 100),
                     json{{"address", "192.0.2.1"}}, std::nullopt};
    auto version = (*store)->apply({domain::write_request::type::apply, {c}});
    benchmark::DoNotOptimize(version);
  }
}

void BM_apply_file(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / ("vcube-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  apply_one_host(state, (dir / "domain.db").string());
  std::filesystem::remove_all(dir);
}

void BM_apply_memory(benchmark::State& state) {
  apply_one_host(state, ":memory:");
}

BENCHMARK(BM_apply_file)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_apply_memory)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
