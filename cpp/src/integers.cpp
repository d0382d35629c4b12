// Sorted factorization of int64 id columns: each thread numbers the distinct values of its
// own chunk in a small open-addressing table (ids repeat a lot: a few dozen accounts, or
// users with tens of messages each), then the chunks' distinct values are merged, sorted,
// and every code is remapped to its value's rank.
#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>
#include <vector>

#include "parallel.hpp"
#include "waconv/strings.hpp"

namespace waconv {
namespace {

class IntegerTable {
 public:
  // Local id of v, numbering new values in order of appearance.
  std::int32_t id_of(std::int64_t v) {
    for (std::size_t slot = hash(v);; slot = (slot + 1) & mask_) {
      Entry& e = entries_[slot];
      if (e.id >= 0 && e.value == v) return e.id;
      if (e.id < 0) {
        const auto id = static_cast<std::int32_t>(values_.size());
        e = {v, id};
        values_.push_back(v);
        // grow() frees the table `e` points into: return the id held in a local.
        if (values_.size() * 2 > entries_.size()) grow();
        return id;
      }
    }
  }

  const std::vector<std::int64_t>& values() const { return values_; }  // by local id

 private:
  struct Entry {
    std::int64_t value = 0;
    std::int32_t id = -1;
  };

  std::size_t hash(std::int64_t v) const {
    // Fibonacci hashing: the top bits of the product mix every bit of the id.
    return static_cast<std::size_t>((static_cast<std::uint64_t>(v) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void grow() {
    std::vector<Entry> old(entries_.size() * 2);
    old.swap(entries_);
    mask_ = entries_.size() - 1;
    --shift_;
    for (const Entry& e : old) {
      if (e.id < 0) continue;
      std::size_t slot = hash(e.value);
      while (entries_[slot].id >= 0) slot = (slot + 1) & mask_;
      entries_[slot] = e;
    }
  }

  std::vector<Entry> entries_ = std::vector<Entry>(64);
  std::size_t mask_ = 63;
  int shift_ = 64 - 6;
  std::vector<std::int64_t> values_;
};

}  // namespace

FactorizedIntegers factorize_integers(const std::int64_t* values, std::size_t n, int threads) {
  if (n > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("factorize_integers: more than 2^31 - 1 values");
  }
  FactorizedIntegers out;
  out.codes.resize(n);
  const std::size_t workers = detail::thread_count(threads, n);
  std::vector<IntegerTable> tables(workers);
  detail::parallel_chunks(n, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    for (std::size_t i = first; i < last; ++i) out.codes[i] = tables[chunk].id_of(values[i]);
  });
  for (const IntegerTable& table : tables) {
    out.uniques.insert(out.uniques.end(), table.values().begin(), table.values().end());
  }
  std::sort(out.uniques.begin(), out.uniques.end());
  out.uniques.erase(std::unique(out.uniques.begin(), out.uniques.end()), out.uniques.end());
  detail::parallel_chunks(n, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    std::vector<std::int32_t> rank;
    rank.reserve(tables[chunk].values().size());
    for (std::int64_t v : tables[chunk].values()) {
      rank.push_back(static_cast<std::int32_t>(std::lower_bound(out.uniques.begin(), out.uniques.end(), v) -
                                               out.uniques.begin()));
    }
    for (std::size_t i = first; i < last; ++i) out.codes[i] = rank[static_cast<std::size_t>(out.codes[i])];
  });
  return out;
}

}  // namespace waconv
