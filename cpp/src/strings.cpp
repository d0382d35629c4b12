// Sorted factorization of an Arrow string column, straight from its buffers.
//
// Plan: one pass over the rows through an open-addressing hash table that numbers the
// distinct strings in order of first appearance, then a sort of the (few) distinct strings
// and a pass remapping every code through the resulting permutation. On several threads
// the distinct strings are split into partitions, one table and one thread each.
//
// Speed comes from three choices:
// - Every string is summarised by a 32-byte Key holding its first 24 bytes as three
//   big-endian words (zero-padded) and its length. User ids (phone numbers, BSUIDs) fit in
//   24 bytes, so the table's equality test and the sort compare integers already at hand
//   instead of chasing pointers into the (100+ MB) data buffer; only longer strings compare
//   their tails there. Big-endian words compare as integers exactly like memcmp compares
//   their bytes.
// - The table is a power-of-two array of two-slot, cache-line-sized buckets with linear
//   probing, at most half full: a lookup is nearly always one cache line and one predictable
//   branch.
// - Rows are processed in batches: hash the whole batch first, then probe while prefetching
//   the buckets of the rows a few places ahead. The table (tens of MB) does not fit in cache;
//   prefetching keeps many of its misses in flight instead of paying them one by one.
#include "waconv/strings.hpp"

#include "waconv/buffers.hpp"
#include "parallel.hpp"
#include "string_hash.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace waconv {
namespace {

using namespace detail;  // the shared string hashing (string_hash.hpp)

// Two slots filling one cache line: a probe reads one line and usually stops there.
struct alignas(64) Bucket {
  Key slot[2];
};

// ---------------------------------------------------------------------------------------
// The factorizer, templated on the column's layout (offset width, or views) so the row loop
// has no per-row branch on it.

template <class Rows>
class Factorizer {
 public:
  Factorizer(const StringColumn& column, const Rows& rows, int threads, int partitions)
      : column_(column),
        rows_(rows),
        threads_(threads),
        partitions_(partitions) {}

  FactorizedStrings run() {
    FactorizedStrings out;
    out.codes.resize(column_.size);
    number_in_order_of_appearance(out.codes);
    sort_distinct(out);
    return out;
  }

 private:
  static constexpr std::size_t kBatch = 1024;  // keys of a batch stay in L1/L2
  static constexpr std::size_t kAhead = 16;    // enough misses in flight to cover memory latency
  static constexpr std::size_t kMinBuckets = 512;
  static constexpr std::size_t kMaxInitialBuckets = std::size_t{1} << 20;

  // One partition's hash table: a power-of-two count of buckets, on huge pages where
  // possible (random probes), and the first row of each of its distinct strings, by local id.
  struct Table {
    RowBuffer<Bucket> buckets;
    std::size_t mask = 0;
    std::vector<std::int64_t> first_row;
  };

  std::string_view value(std::size_t row) const { return rows_.value(row); }
  // How far from value(row)'s start words may be loaded.
  const char* end(std::size_t row) const { return rows_.end(row); }

  // Pass 1: codes[row] = code of the row's string (see `encode`), numbered by first
  // appearance within its partition. With several threads the distinct strings are split
  // by hash into one partition per thread, each with its own table: every thread reads
  // and hashes all rows but probes only its own share, so the table misses, the bulk of
  // the work, are divided without any merging of tables afterwards.
  void number_in_order_of_appearance(std::vector<std::int32_t>& codes) {
    const std::size_t parts = partitions();
    part_shift_ = static_cast<unsigned>(std::bit_width(parts - 1));
    tables_.resize(parts);
    detail::parallel_chunks(parts, parts, [&](std::size_t, std::size_t, std::size_t part) {
      number_partition(part, parts, codes.data());
    });
  }

  // Splitting only pays off where the table no longer fits in cache; every code must also
  // still fit an int32 once the partition is packed into its low bits.
  std::size_t partitions() const {
    const std::size_t parts = detail::thread_count(partitions_ > 0 ? partitions_ : threads_, column_.size);
    if (parts <= 1 || column_.size < (std::size_t{1} << 20)) return 1;
    const auto shift = static_cast<unsigned>(std::bit_width(parts - 1));
    return column_.size <= (static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) >> shift) ? parts : 1;
  }

  // Which partition a string belongs to, from its last (up to) 8 bytes times an odd constant:
  // far cheaper than the full hash, which every thread would otherwise compute for every
  // row, and the ends of ids (the last digits of a phone number) are what varies most. A
  // skewed split only slows the numbering; any split gives the same codes.
  static std::size_t partition_of(std::string_view s, const char* end, std::size_t parts) {
    const std::size_t n = std::min<std::size_t>(s.size(), 8);
    const std::uint64_t tail = load_word(s.data() + s.size() - n, n, end);
    return static_cast<std::size_t>((((tail * kSecret1) >> 32) * parts) >> 32);
  }

  // A code packs the local id (its order of appearance in the partition) above the partition.
  std::int32_t encode(std::int32_t local, std::size_t part) const {
    return static_cast<std::int32_t>((static_cast<std::uint32_t>(local) << part_shift_) | part);
  }

  // Rows go in batches: first the keys and hashes of the whole batch (sequential reads, pure
  // arithmetic), keeping the partition's own rows, then the probes, each prefetching the
  // bucket of the row kAhead places later. Keeping the arithmetic out of the probe loop lets
  // many table misses be in flight at once. Null rows are written by partition 0.
  void number_partition(std::size_t part, std::size_t parts, std::int32_t* codes) {
    Table& table = tables_[part];
    // Start near the final size to skip most rehashing. Message logs repeat each user id many
    // times; one bucket (two slots) per 32 rows holds up to one distinct id per 16 rows before
    // growing. An oversized table costs only its zeroing, capped at 64 MiB.
    const std::size_t buckets = std::clamp(std::bit_ceil(column_.size / 32 / parts), kMinBuckets, kMaxInitialBuckets);
    table.buckets.assign(buckets, Bucket{});
    table.mask = buckets - 1;
    std::vector<Key> keys(kBatch);
    std::vector<std::uint64_t> hashes(kBatch);
    std::vector<std::uint32_t> rows(kBatch);  // the batch's rows of this partition
    for (std::size_t start = 0; start < column_.size; start += kBatch) {
      const std::size_t count = std::min(kBatch, column_.size - start);
      std::size_t mine = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t row = start + i;
        if (!column_.is_valid(row)) {
          if (part == 0) codes[row] = -1;
          continue;
        }
        rows[mine] = static_cast<std::uint32_t>(row);
        mine += parts == 1 || partition_of(value(row), end(row), parts) == part;  // no branch: a coin toss
      }
      for (std::size_t k = 0; k < mine; ++k) hashes[k] = make_key(value(rows[k]), end(rows[k]), keys[k]);
      for (std::size_t k = 0; k < std::min(mine, kAhead); ++k) prefetch(&table.buckets[hashes[k] & table.mask]);
      for (std::size_t k = 0; k < mine; ++k) {
        if (k + kAhead < mine) prefetch(&table.buckets[hashes[k + kAhead] & table.mask]);
        codes[rows[k]] = encode(find_or_insert(table, keys[k], hashes[k], rows[k]), part);
      }
    }
  }

  // Linear probing over buckets. Nearly every lookup finds its string in the first bucket, so
  // both slots are tested without branching and one predictable branch asks "found?".
  std::int32_t find_or_insert(Table& table, const Key& key, std::uint64_t hash, std::size_t row) {
    for (std::size_t b = hash & table.mask;; b = (b + 1) & table.mask) {
      Bucket& bucket = table.buckets[b];
      const bool match0 = same_head(bucket.slot[0], key);
      const bool match1 = same_head(bucket.slot[1], key);
      if (match0 | match1) {
        if (key.length <= kHeadBytes) return match0 ? bucket.slot[0].id : bucket.slot[1].id;
        if (match0 && same_tail(table, bucket.slot[0], row)) return bucket.slot[0].id;
        if (match1 && same_tail(table, bucket.slot[1], row)) return bucket.slot[1].id;
      }
      // Slots fill in order and are never emptied, so a free slot 1 ends the probe.
      if (bucket.slot[1].id < 0) return insert(table, bucket.slot[bucket.slot[0].id < 0 ? 0 : 1], key, row);
    }
  }

  std::int32_t insert(Table& table, Key& slot, const Key& key, std::size_t row) {
    const auto id = static_cast<std::int32_t>(table.first_row.size());
    slot = key;
    slot.id = id;
    table.first_row.push_back(static_cast<std::int64_t>(row));
    // Keep the load factor <= 1/2 so probes rarely leave the first bucket. grow() frees the
    // buckets `slot` lives in: from here on only the local `id` may be read, never slot.id.
    if (table.first_row.size() > table.buckets.size()) grow(table);
    return id;
  }

  // Non-short-circuit `&`: the compares are cheap and branch-free beats mispredicted branches.
  static bool same_head(const Key& slot, const Key& key) {
    return (slot.head[0] == key.head[0]) & (slot.head[1] == key.head[1]) & (slot.head[2] == key.head[2]) &
           (slot.length == key.length) & (slot.id >= 0);
  }

  // For strings longer than the head: the remaining bytes, read from the data buffer.
  bool same_tail(const Table& table, const Key& slot, std::size_t row) const {
    return row_value(table.first_row, slot).substr(kHeadBytes) == value(row).substr(kHeadBytes);
  }

  // The string of a key, through the first row of its id in `first_row`.
  std::string_view row_value(const std::vector<std::int64_t>& first_row, const Key& key) const {
    return value(static_cast<std::size_t>(first_row[static_cast<std::size_t>(key.id)]));
  }

  // The string of a key once the partitions are numbered (key.id is then a code).
  std::string_view distinct_value(const Key& key) const { return row_value(first_row_by_code_, key); }

  void grow(Table& table) {
    decltype(table.buckets) old(2 * table.buckets.size());
    old.swap(table.buckets);
    table.mask = table.buckets.size() - 1;
    for (const Bucket& bucket : old) {
      for (const Key& key : bucket.slot) {
        if (key.id < 0) continue;
        // Hashes are not stored (a slot stays 32 bytes). Recomputing them reads the data
        // buffer (two random accesses) only for strings longer than the head.
        const bool long_string = key.length > kHeadBytes;
        const auto row = long_string ? static_cast<std::size_t>(table.first_row[static_cast<std::size_t>(key.id)]) : 0;
        const std::string_view s = long_string ? value(row) : std::string_view{};
        std::size_t b = hash_of(key, s, long_string ? end(row) : nullptr) & table.mask;
        while (table.buckets[b].slot[1].id >= 0) b = (b + 1) & table.mask;
        table.buckets[b].slot[table.buckets[b].slot[0].id < 0 ? 0 : 1] = key;
      }
    }
  }

  // Bytewise order, which for UTF-8 is code point order, i.e. Python's str order. The heads
  // decide almost every comparison; only strings sharing their first 24 bytes look further.
  bool less(const Key& a, const Key& b) const {
    for (std::size_t i = 0; i < kHeadWords; ++i) {
      if (a.head[i] != b.head[i]) return a.head[i] < b.head[i];
    }
    return less_same_head(a, b);
  }

  bool less_same_head(const Key& a, const Key& b) const {
    if (a.length > kHeadBytes && b.length > kHeadBytes) {
      const auto tail_a = distinct_value(a).substr(kHeadBytes);
      const auto tail_b = distinct_value(b).substr(kHeadBytes);
      const int c = std::memcmp(tail_a.data(), tail_b.data(), std::min(tail_a.size(), tail_b.size()));
      if (c != 0) return c < 0;
      return tail_a.size() < tail_b.size();
    }
    // At most one string longer than the head: the shorter one is a prefix of the other (any
    // byte past its end matched a padding zero), so it sorts first.
    return a.length < b.length;
  }

  // Most significant byte first radix sort on the 24 head bytes: with hundreds of thousands of
  // ids sharing long prefixes ("+55119..."), bucketing by byte beats comparison sorting.
  // Small ranges, and ties on the whole head, go to std::sort with the full comparison.
  // `threads` > 1: the buckets of the first byte that splits the keys are sorted by that
  // many threads (this runs at the end of a factorization, when the caller's other work is
  // usually done and the cores are free).
  void radix_sort(Key* keys, std::size_t size, Key* scratch, std::size_t byte, std::size_t threads = 1) const {
    constexpr std::size_t kSmall = 64;
    for (; byte < kHeadBytes && size > kSmall; ++byte) {
      std::size_t start[257] = {};
      for (std::size_t i = 0; i < size; ++i) ++start[head_byte(keys[i], byte) + 1];
      if (std::find(start + 1, start + 257, size) != start + 257) continue;  // all share this byte
      for (std::size_t b = 0; b < 256; ++b) start[b + 1] += start[b];
      std::size_t next[256];
      std::copy(start, start + 256, next);
      for (std::size_t i = 0; i < size; ++i) scratch[next[head_byte(keys[i], byte)]++] = keys[i];
      std::copy(scratch, scratch + size, keys);
      if (threads > 1) {
        sort_buckets_in_parallel(keys, scratch, start, byte + 1, threads);
        return;
      }
      for (std::size_t b = 0; b < 256; ++b) {
        radix_sort(keys + start[b], start[b + 1] - start[b], scratch + start[b], byte + 1);
      }
      return;
    }
    std::sort(keys, keys + size, [this](const Key& a, const Key& b) { return less(a, b); });
  }

  // Buckets go, largest first, to the thread with the fewest keys so far; they are disjoint
  // ranges of `keys` and `scratch`.
  void sort_buckets_in_parallel(Key* keys, Key* scratch, const std::size_t* start, std::size_t byte,
                                std::size_t threads) const {
    std::vector<std::size_t> order(256);
    for (std::size_t b = 0; b < 256; ++b) order[b] = b;
    const auto size_of = [&](std::size_t b) { return start[b + 1] - start[b]; };
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return size_of(a) > size_of(b); });
    std::vector<std::vector<std::size_t>> mine(threads);
    std::vector<std::size_t> load(threads, 0);
    for (std::size_t b : order) {
      if (size_of(b) == 0) break;
      const auto k = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      mine[k].push_back(b);
      load[k] += size_of(b);
    }
    detail::parallel_chunks(threads, threads, [&](std::size_t, std::size_t, std::size_t k) {
      for (std::size_t b : mine[k]) radix_sort(keys + start[b], size_of(b), scratch + start[b], byte);
    });
  }

  std::size_t threads_for(std::size_t n) const { return detail::thread_count(threads_, n); }

  static unsigned head_byte(const Key& key, std::size_t byte) {
    return static_cast<unsigned>(key.head[byte / 8] >> (56 - 8 * (byte % 8))) & 0xff;
  }

  // Pass 2: sort the distinct strings of every partition together and renumber the codes
  // by sorted position.
  void sort_distinct(FactorizedStrings& out) {
    std::size_t distinct_count = 0;
    std::size_t most_local = 0;
    for (const Table& table : tables_) {
      distinct_count += table.first_row.size();
      most_local = std::max(most_local, table.first_row.size());
    }
    const std::size_t code_count = most_local << part_shift_;
    first_row_by_code_.assign(code_count, -1);
    std::vector<Key> distinct;
    distinct.reserve(distinct_count);
    for (std::size_t part = 0; part < tables_.size(); ++part) {
      Table& table = tables_[part];
      for (const Bucket& bucket : table.buckets) {
        for (const Key& key : bucket.slot) {
          if (key.id < 0) continue;
          distinct.push_back(key);
          distinct.back().id = encode(key.id, part);
        }
      }
      for (std::size_t local = 0; local < table.first_row.size(); ++local) {
        first_row_by_code_[static_cast<std::size_t>(encode(static_cast<std::int32_t>(local), part))] = table.first_row[local];
      }
      table = {};
    }
    std::vector<Key> scratch(distinct.size());
    radix_sort(distinct.data(), distinct.size(), scratch.data(), 0, threads_for(distinct.size()));

    std::vector<std::int32_t> rank(code_count);
    out.first_row.resize(distinct.size());
    for (std::size_t position = 0; position < distinct.size(); ++position) {
      rank[static_cast<std::size_t>(distinct[position].id)] = static_cast<std::int32_t>(position);
      out.first_row[position] = first_row_by_code_[static_cast<std::size_t>(distinct[position].id)];
    }
    std::int32_t* const codes = out.codes.data();
    detail::parallel_chunks(out.codes.size(), threads_for(out.codes.size()), [&](std::size_t first, std::size_t last) {
      for (std::size_t row = first; row < last; ++row) {
        if (codes[row] >= 0) codes[row] = rank[static_cast<std::size_t>(codes[row])];
      }
    });
  }

  const StringColumn& column_;
  Rows rows_;  // OffsetStrings or ViewStrings
  int threads_;
  int partitions_;
  std::vector<Table> tables_;  // one per partition
  unsigned part_shift_ = 0;    // bits of a code holding the partition
  std::vector<std::int64_t> first_row_by_code_;  // filled once numbering is done
};

}  // namespace

FactorizedStrings factorize_sorted(const StringColumn& column, int threads, int partitions) {
  // Codes are int32 and may number every row.
  if (column.size > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("factorize_sorted: more than 2^31 - 1 values");
  }
  return column.with_rows([&](const auto& rows) {
    using Rows = std::remove_cvref_t<decltype(rows)>;
    return Factorizer<Rows>(column, rows, threads, partitions).run();
  });
}

}  // namespace waconv
