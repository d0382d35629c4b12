// Test helper: an Arrow-like string array owning its buffers, viewed as the core's StringColumn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
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

// The same values in Arrow's string_view layout: 16-byte views, strings of more than 12
// bytes spread over data buffers of about `buffer_bytes` each.
struct ArrowViews {
  std::vector<std::uint8_t> views;
  std::vector<std::string> buffers{std::string()};
  std::vector<const char*> starts, ends;
  std::vector<std::uint8_t> validity;

  ArrowViews(const std::vector<std::optional<std::string>>& values, std::size_t buffer_bytes) {
    views.assign(16 * values.size(), 0);
    validity.assign(values.size() / 8 + 1, 0);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i]) continue;
      validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
      const std::string& s = *values[i];
      std::uint8_t* view = views.data() + 16 * i;
      const auto length = static_cast<std::int32_t>(s.size());
      std::memcpy(view, &length, 4);
      if (s.size() <= 12) {
        std::memcpy(view + 4, s.data(), s.size());
        continue;
      }
      if (!buffers.back().empty() && buffers.back().size() + s.size() > buffer_bytes) buffers.emplace_back();
      const auto buffer = static_cast<std::int32_t>(buffers.size() - 1);
      const auto offset = static_cast<std::int32_t>(buffers.back().size());
      std::memcpy(view + 4, s.data(), 4);
      std::memcpy(view + 8, &buffer, 4);
      std::memcpy(view + 12, &offset, 4);
      buffers.back() += s;
    }
    for (const std::string& b : buffers) {
      starts.push_back(b.data());
      ends.push_back(b.data() + b.size());
    }
  }

  StringColumn view(std::size_t first, std::size_t count) const {
    StringColumn column;
    column.size = count;
    column.views = views.data() + 16 * first;
    column.view_buffers = starts.data();
    column.view_buffer_ends = ends.data();
    column.validity = validity.data();
    column.validity_offset = static_cast<std::int64_t>(first);
    return column;
  }
};

}  // namespace waconv::testing
