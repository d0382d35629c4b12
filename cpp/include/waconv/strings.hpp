// Id and category columns to dense codes without a Python object per row: Arrow string
// columns read straight from their buffers (ids with many distinct values; columns with a
// fixed vocabulary such as direction), and int64 id columns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "waconv/buffers.hpp"

namespace waconv {

// A view of an Arrow utf8 (int32 offsets) or large_utf8 (int64 offsets) array.
struct StringColumn {
  std::size_t size = 0;                     // number of values
  const std::int32_t* offsets32 = nullptr;  // exactly one of offsets32/offsets64, size + 1 entries,
  const std::int64_t* offsets64 = nullptr;  // already shifted by the array offset
  const char* data = nullptr;
  const std::uint8_t* validity = nullptr;  // Arrow LSB bitmap or nullptr (all valid)
  std::int64_t validity_offset = 0;        // bit offset into validity

  bool is_valid(std::size_t row) const {
    if (validity == nullptr) return true;
    const auto bit = static_cast<std::uint64_t>(validity_offset) + row;
    return (validity[bit >> 3] >> (bit & 7)) & 1;
  }

  // Value `row` (nulls read as their empty slot), given this column's offsets array as
  // with_offsets passes it.
  template <class Offset>
  std::string_view value(const Offset* offsets, std::size_t row) const {
    return {data + offsets[row], static_cast<std::size_t>(offsets[row + 1] - offsets[row])};
  }

  // body(offsets) with the offsets array of this column at its own width, so that the row
  // loops inside are compiled once per width with no per-row branch on it.
  template <class Body>
  decltype(auto) with_offsets(Body&& body) const {
    if ((offsets32 == nullptr) == (offsets64 == nullptr)) {
      throw std::invalid_argument("StringColumn: exactly one of offsets32/offsets64 must be set");
    }
    if (offsets32 != nullptr) return body(offsets32);
    return body(offsets64);
  }
};

struct FactorizedStrings {
  std::vector<std::int32_t> codes;      // per value: index of its string among the sorted distinct strings; -1 for null
  std::vector<std::int64_t> first_row;  // per distinct string (sorted bytewise = Python str order for UTF-8): first row holding it
};

// Same result as pandas.factorize(values, sort=True) (codes, and where each unique first occurs).
// threads (0 = one per core) sort the distinct strings and renumber the rows. From 2^20
// rows the distinct strings are numbered in `partitions` hash partitions on as many threads
// (0 = one per thread); a caller running other work alongside can leave cores to it.
FactorizedStrings factorize_sorted(const StringColumn& column, int threads = 0, int partitions = 0);

// Each value's 64-bit hash as the core's hash tables compute it (string_hash.hpp: fixed
// secrets, big-endian words, so the same in every process and on every platform); 0 for
// nulls. For spreading rows over partitions by their id: equal strings, equal hashes.
// threads: 0 = one per core.
std::vector<std::uint64_t> string_hashes(const StringColumn& column, int threads = 0);

struct FactorizedIntegers {
  RowBuffer<std::int32_t> codes;      // per value: index of its value among the sorted distinct values
  std::vector<std::int64_t> uniques;  // sorted
};

// Same result as pandas.factorize(values, sort=True) for an int64 column without nulls
// (account ids, numeric phone numbers). threads: 0 = one per core.
FactorizedIntegers factorize_integers(const std::int64_t* values, std::size_t n, int threads = 0);

struct VocabularyCodes {
  std::vector<std::int8_t> codes;   // per value: the code of its vocabulary entry, or the null code
  std::int64_t first_unknown = -1;  // first row spelled like no vocabulary entry, -1 if none
  std::int64_t first_null = -1;     // first null row, -1 if none
};

// Codes of a column whose values come from a short vocabulary, matched exactly (bytewise):
// row i gets codes[k] when it reads vocabulary[k], null_code when it is null. Rows after an
// unknown one are left unspecified: the caller falls back to its own normalising path.
VocabularyCodes encode_vocabulary(const StringColumn& column, const std::vector<std::string>& vocabulary,
                                  const std::vector<std::int8_t>& codes, std::int8_t null_code, int threads = 0);

}  // namespace waconv
