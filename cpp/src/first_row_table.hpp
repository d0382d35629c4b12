// The first row holding each key, through a hash table partitioned over threads.
//
// Message ids are nearly all distinct, so such a table ends up holding about one entry per
// row: a table of Keys (32 bytes, as the factorizer of user ids keeps) would need over
// 0.6 GB at 10M rows. Here a slot is 8 bytes, the low 32 bits of the key's hash and the row
// that first held the key; a slot whose hash bits match is confirmed by the caller against
// that row's key, which only true repeats (and one in 2^32 others) ever need.
//
// On several threads every thread reads and hashes every row but keeps only the rows whose
// hash falls in its partition (the high 32 bits), so the table misses, the bulk of the
// work, are divided and no tables are merged. Rows are hashed a batch at a time and the
// probes prefetch the slots of rows a few places ahead, keeping many misses in flight.
// duplicates.cpp and message_groups.cpp both stand on it.
#pragma once

#include "waconv/buffers.hpp"
#include "string_hash.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace waconv::detail {

class FirstRowTable {
 public:
  // Room for `rows` keys at a load of at most 2/3, so the table rarely grows.
  explicit FirstRowTable(std::size_t rows) { resize(std::max(kMinSlots, std::bit_ceil(rows + rows / 2 + 1))); }

  void prefetch_slot(std::uint32_t hash) const { prefetch(&slots_[hash & mask_]); }

  // The first row whose key equals the row's (same(first) confirms a candidate); the row
  // itself, now added, if none did.
  template <class Same>
  std::uint32_t first_holding(std::uint32_t hash, std::uint32_t row, Same same) {
    for (std::size_t s = hash & mask_;; s = (s + 1) & mask_) {
      Slot& slot = slots_[s];
      if (slot.row_plus_one == 0) {
        slot = {hash, row + 1};
        if (++used_ * 3 > slots_.size() * 2) grow();
        return row;
      }
      if (slot.hash == hash && same(slot.row_plus_one - 1)) return slot.row_plus_one - 1;
    }
  }

 private:
  struct Slot {
    std::uint32_t hash = 0;          // low 32 bits of the key's hash; they also pick the slot
    std::uint32_t row_plus_one = 0;  // first row holding the key, plus one; 0 marks an empty slot
  };
  static constexpr std::size_t kMinSlots = 16;

  void resize(std::size_t size) {
    slots_.assign(size, Slot{});
    mask_ = size - 1;
  }

  // The stored hash bits pick the slot, so entries move without rereading any key.
  void grow() {
    RowBuffer<Slot> old = std::move(slots_);
    resize(old.size() * 2);
    for (const Slot& entry : old) {
      if (entry.row_plus_one == 0) continue;
      std::size_t s = entry.hash & mask_;
      while (slots_[s].row_plus_one != 0) s = (s + 1) & mask_;
      slots_[s] = entry;
    }
  }

  RowBuffer<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};

// Calls visit(row, first) for every row of partition `part` of `parts` (rows whose hash's
// high 32 bits fall in it) for which hash_of(row, hash) is true, in row order, with the
// first row holding the same key (same(first, row) confirms a candidate).
template <class HashOf, class Same, class Visit>
void first_rows_of_partition(std::size_t n, std::size_t part, std::size_t parts, std::size_t expected_rows,
                             HashOf hash_of, Same same, Visit visit) {
  constexpr std::size_t kBatch = 1024;
  constexpr std::size_t kAhead = 16;
  FirstRowTable table(expected_rows);
  std::vector<std::uint64_t> hashes(kBatch);
  std::vector<std::uint32_t> rows(kBatch);
  for (std::size_t start = 0; start < n; start += kBatch) {
    const std::size_t count = std::min(kBatch, n - start);
    std::size_t mine = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t row = start + i;
      std::uint64_t hash;
      if (!hash_of(row, hash)) continue;
      rows[mine] = static_cast<std::uint32_t>(row);
      hashes[mine] = hash;
      const std::size_t partition = static_cast<std::size_t>(((hash >> 32) * parts) >> 32);
      mine += parts == 1 || partition == part;  // no branch: a coin toss
    }
    for (std::size_t k = 0; k < std::min(mine, kAhead); ++k) table.prefetch_slot(static_cast<std::uint32_t>(hashes[k]));
    for (std::size_t k = 0; k < mine; ++k) {
      if (k + kAhead < mine) table.prefetch_slot(static_cast<std::uint32_t>(hashes[k + kAhead]));
      const std::uint32_t row = rows[k];
      visit(row, table.first_holding(static_cast<std::uint32_t>(hashes[k]), row,
                                     [&](std::uint32_t first) { return same(first, row); }));
    }
  }
}

}  // namespace waconv::detail
