// Internal: the engine's one way of using several cores, a parallel for over contiguous
// chunks of rows (each chunk's work is independent and written to disjoint outputs).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <thread>
#include <type_traits>
#include <vector>

namespace waconv::detail {

// Worker threads for n rows: `requested` if given (at most one per row), else one per core
// but fewer for small inputs, where starting threads costs more than it saves.
inline std::size_t thread_count(int requested, std::size_t n, std::size_t max_threads = 65535) {
  if (requested > 0) return std::clamp<std::size_t>(static_cast<std::size_t>(requested), 1, std::min(max_threads, std::max<std::size_t>(1, n)));
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<std::size_t>(cores, 1, std::min(max_threads, std::max<std::size_t>(1, n / 100'000)));
}

// body(first, last) or body(first, last, chunk) over `threads` contiguous chunks of [0, n);
// chunk is the index of the chunk (0 .. threads-1), for per-thread scratch data. An
// exception in any chunk is rethrown here after every thread has joined.
template <class Body>
void parallel_chunks(std::size_t n, std::size_t threads, Body body) {
  auto run = [&](std::size_t k) {
    const std::size_t first = n * k / threads;
    const std::size_t last = n * (k + 1) / threads;
    if constexpr (std::is_invocable_v<Body&, std::size_t, std::size_t, std::size_t>) {
      body(first, last, k);
    } else {
      body(first, last);
    }
  };
  if (threads <= 1) {
    threads = 1;
    run(0);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  for (std::size_t k = 0; k < threads; ++k) {
    workers.emplace_back([&, k] {
      try {
        run(k);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// The per-chunk results of a parallel pass as one vector, in chunk order.
template <class T>
std::vector<T> concatenated(std::vector<std::vector<T>>&& parts) {
  if (parts.empty()) return {};
  std::vector<T> all = std::move(parts[0]);
  for (std::size_t k = 1; k < parts.size(); ++k) all.insert(all.end(), parts[k].begin(), parts[k].end());
  return all;
}

// The row a search over parallel chunks found first: the lowest entry that is not -1 (each
// chunk keeps its own first row, and chunks are in row order).
inline std::int64_t first_found(const std::vector<std::int64_t>& per_chunk) {
  for (std::int64_t row : per_chunk) {
    if (row >= 0) return row;
  }
  return -1;
}

}  // namespace waconv::detail
