// Test helper: an Arrow-like string array owning its buffers, viewed as the core's StringColumn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "waconv/strings.hpp"

namespace waconv::testing {

// An Arrow-like string array owning its buffers; `nullopt` entries are nulls.
template <class Offset>
struct ArrowStrings {
  std::vector<Offset> offsets{0};
  std::string data;
  std::vector<std::uint8_t> validity;

  explicit ArrowStrings(const std::vector<std::optional<std::string>>& values) {
    validity.assign(values.size() / 8 + 1, 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i]) {
        data += *values[i];
        validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
      }
      offsets.push_back(static_cast<Offset>(data.size()));
    }
  }

  // A view of values [first, first + count), as pyarrow slices: offsets and bitmap shifted.
  StringColumn view(std::size_t first, std::size_t count, bool with_validity = true) const {
    StringColumn column;
    column.size = count;
    if constexpr (sizeof(Offset) == 4) {
      column.offsets32 = offsets.data() + first;
    } else {
      column.offsets64 = offsets.data() + first;
    }
    column.data = data.data();
    if (with_validity) {
      column.validity = validity.data();
      column.validity_offset = static_cast<std::int64_t>(first);
    }
    return column;
  }
  StringColumn view() const { return view(0, offsets.size() - 1); }
};

}  // namespace waconv::testing
