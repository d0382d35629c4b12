// Id and category columns to dense codes without a Python object per row: Arrow string
// columns read straight from their buffers (ids with many distinct values; columns with a
// fixed vocabulary such as direction), and int64 id columns.
#pragma once

#include <cstddef>
#include <cstring>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "waconv/buffers.hpp"

namespace waconv {

// The rows of an offsets-and-data string array (utf8: int32 offsets, large_utf8: int64).
template <class Offset>
struct OffsetStrings {
  const Offset* offsets;  // size + 1 entries, already shifted by the array offset
  const char* data;
  const char* data_end;  // end of the last value: nothing at or past it is read

  // Value `row` (nulls read as their empty slot).
  std::string_view value(std::size_t row) const {
    return {data + offsets[row], static_cast<std::size_t>(offsets[row + 1] - offsets[row])};
  }
  // How far past value(row)'s start a word may be loaded: the hashing reads whole words.
  const char* end(std::size_t) const { return data_end; }
};

// The rows of an Arrow string_view array (polars' own layout): 16 bytes per value, a
// little-endian int32 length, then up to 12 bytes of the string itself, or else its first 4
// bytes, the index of the data buffer holding it and its offset there.
struct ViewStrings {
  static constexpr std::size_t kViewBytes = 16;
  static constexpr std::int32_t kInlineBytes = 12;

  const std::uint8_t* views;  // already shifted by the array offset
  const char* const* buffers;
  const char* const* buffer_ends;
  const char* views_end;  // an inline value may be read up to here

  std::string_view value(std::size_t row) const {
    const std::uint8_t* view = views + kViewBytes * row;
    const std::int32_t length = field(view, 0);
    if (length <= kInlineBytes) return {reinterpret_cast<const char*>(view + 4), static_cast<std::size_t>(length)};
    return {buffers[field(view, 8)] + field(view, 12), static_cast<std::size_t>(length)};
  }
  const char* end(std::size_t row) const {
    const std::uint8_t* view = views + kViewBytes * row;
    return field(view, 0) <= kInlineBytes ? views_end : buffer_ends[field(view, 8)];
  }
  static std::int32_t field(const std::uint8_t* view, std::size_t at) {
    std::int32_t value;
    std::memcpy(&value, view + at, sizeof value);  // native byte order, as Arrow's; no alignment needed
    return value;
  }
};

// A view of an Arrow utf8 / large_utf8 array (offsets and one data buffer) or string_view
// array (16-byte views and any number of data buffers), plus its validity bitmap.
struct StringColumn {
  std::size_t size = 0;                     // number of values
  const std::int32_t* offsets32 = nullptr;  // exactly one of offsets32/offsets64/views, size + 1 offsets
  const std::int64_t* offsets64 = nullptr;  // or size views, already shifted by the array offset
  const char* data = nullptr;               // with offsets: the one data buffer
  const std::uint8_t* views = nullptr;      // string_view: 16 bytes per value
  const char* const* view_buffers = nullptr;      // string_view: the data buffers, and where each ends
  const char* const* view_buffer_ends = nullptr;  // (the caller has checked every view against them)
  const std::uint8_t* validity = nullptr;  // Arrow LSB bitmap or nullptr (all valid)
  std::int64_t validity_offset = 0;        // bit offset into validity

  bool is_valid(std::size_t row) const {
    if (validity == nullptr) return true;
    const auto bit = static_cast<std::uint64_t>(validity_offset) + row;
    return (validity[bit >> 3] >> (bit & 7)) & 1;
  }

  // body(rows) with this column's rows as OffsetStrings<int32/int64> or ViewStrings, so that
  // the row loops inside are compiled once per layout with no per-row branch on it.
  template <class Body>
  decltype(auto) with_rows(Body&& body) const {
    if ((offsets32 != nullptr) + (offsets64 != nullptr) + (views != nullptr) != 1) {
      throw std::invalid_argument("StringColumn: exactly one of offsets32/offsets64/views must be set");
    }
    if (offsets32 != nullptr) return body(OffsetStrings<std::int32_t>{offsets32, data, data + offsets32[size]});
    if (offsets64 != nullptr) return body(OffsetStrings<std::int64_t>{offsets64, data, data + offsets64[size]});
    const auto* views_end = reinterpret_cast<const char*>(views + ViewStrings::kViewBytes * size);
    return body(ViewStrings{views, view_buffers, view_buffer_ends, views_end});
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
