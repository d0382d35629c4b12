// Helpers shared by the binding files: NumPy columns in (no per-row Python objects), new
// NumPy arrays out that take ownership of the core's vectors without copying.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "waconv/events.hpp"
#include "waconv/rules.hpp"
#include "waconv/strings.hpp"

namespace waconv::bindings {

namespace py = pybind11;

template <class T>
using Column = py::array_t<T, py::array::c_style | py::array::forcecast>;

// The column's data pointer after checking its length; nullptr for an absent optional column.
template <class T>
const T* data_of(const std::optional<Column<T>>& column, std::size_t size, const char* name,
                 const char* per = "row") {
  if (!column) return nullptr;
  if (column->ndim() != 1 || static_cast<std::size_t>(column->shape(0)) != size) {
    throw py::value_error(std::string("column '") + name + "' must be one-dimensional with one value per " + per);
  }
  return column->data();
}

// Any std::vector (plain or RowBuffer) moves into the array's owner: no copy.
template <class T, class Allocator>
py::array to_numpy(std::vector<T, Allocator>&& values) {
  using Owned = std::vector<T, Allocator>;
  auto* owned = new Owned(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<Owned*>(p); });
  return py::array_t<T>({owned->size()}, {sizeof(T)}, owned->data(), owner);
}

inline std::vector<waconv::AccountClock> make_clocks(const std::vector<std::string>& time_zones) {
  // Many WABAs share a handful of zones: build each zone's calendar once.
  std::map<std::string, std::size_t> first_with_zone;
  std::vector<waconv::AccountClock> clocks;
  clocks.reserve(time_zones.size());
  for (const std::string& zone : time_zones) {
    const auto [it, inserted] = first_with_zone.emplace(zone, clocks.size());
    if (!inserted) {
      clocks.push_back(clocks[it->second]);
      continue;
    }
    try {
      clocks.emplace_back(zone);
    } catch (const std::invalid_argument& e) {
      throw waconv::InputError("timezones", -1, e.what());
    }
  }
  return clocks;
}

// Arrow's contract on an offsets buffer, checked here because the core trusts it for every
// memory access: size + 1 non-negative, non-decreasing entries, the last within the data.
template <class Offset>
inline void check_offsets(const Column<Offset>& offsets, std::size_t size, std::size_t data_size) {
  if (offsets.ndim() != 1 || static_cast<std::size_t>(offsets.shape(0)) != size + 1) {
    throw py::value_error("offsets must be one-dimensional with size + 1 entries (got " +
                          std::to_string(offsets.size()) + " for size " + std::to_string(size) + ")");
  }
  const Offset* o = offsets.data();
  if (o[0] < 0) throw py::value_error("offsets must not be negative");
  for (std::size_t i = 0; i < size; ++i) {
    if (o[i + 1] < o[i]) throw py::value_error("offsets must be non-decreasing");
  }
  if (static_cast<std::size_t>(o[size]) > data_size) {
    throw py::value_error("the last offset (" + std::to_string(o[size]) + ") is past the end of data (" +
                          std::to_string(data_size) + " bytes)");
  }
}

// Arrow's contract on string views, checked here for the same reason: every value's length
// is non-negative and an out-of-line value lies inside the data buffer it names. Null rows
// are never read, so their views are not checked.
inline void check_views(const waconv::StringColumn& column, const std::vector<std::int64_t>& buffer_sizes) {
  using waconv::ViewStrings;
  for (std::size_t row = 0; row < column.size; ++row) {
    if (!column.is_valid(row)) continue;
    const std::uint8_t* view = column.views + ViewStrings::kViewBytes * row;
    const std::int32_t length = ViewStrings::field(view, 0);
    if (length < 0) throw py::value_error("view " + std::to_string(row) + " has a negative length");
    if (length <= ViewStrings::kInlineBytes) continue;
    const std::int32_t buffer = ViewStrings::field(view, 8), offset = ViewStrings::field(view, 12);
    if (buffer < 0 || static_cast<std::size_t>(buffer) >= buffer_sizes.size() || offset < 0 ||
        std::int64_t{offset} + length > buffer_sizes[static_cast<std::size_t>(buffer)]) {
      throw py::value_error("view " + std::to_string(row) + " points outside its data buffers");
    }
  }
}

// A StringColumn over buffers handed in from Python, checked, with the (possibly converted)
// offsets and data kept alive as long as the view. Two layouts:
// - utf8 / large_utf8: `offsets` int32 or int64 (size + 1 entries), `data` one uint8 array;
// - string_view: `offsets` the views as uint8 (16 bytes per value), `data` a list of uint8
//   arrays, the data buffers in Arrow's order.
class ArrowStrings {
 public:
  ArrowStrings(const py::array& offsets, const py::object& data, const std::optional<Column<std::uint8_t>>& validity,
               std::int64_t validity_offset, std::int64_t size) {
    if (size < 0) throw py::value_error("size must not be negative");
    const auto n = static_cast<std::size_t>(size);
    column_.size = n;
    if (validity) {
      if (validity_offset < 0) throw py::value_error("validity_offset must not be negative");
      const auto bits_needed = static_cast<std::size_t>(validity_offset) + n;
      if (validity->ndim() != 1 || static_cast<std::size_t>(validity->size()) * 8 < bits_needed) {
        throw py::value_error("validity must be a one-dimensional bitmap of at least validity_offset + size bits");
      }
      column_.validity = validity->data();
      column_.validity_offset = validity_offset;
    }
    const py::dtype kind = offsets.dtype();
    if (kind.kind() == 'u' && kind.itemsize() == 1) {
      read_views(offsets, data, n);
      return;
    }
    data_.push_back(bytes(data, "data"));
    column_.data = reinterpret_cast<const char*>(data_.back().data());
    const auto data_size = static_cast<std::size_t>(data_.back().size());
    if (kind.kind() == 'i' && kind.itemsize() == 4) {
      offsets32_ = Column<std::int32_t>::ensure(offsets);
      check_offsets(*offsets32_, n, data_size);
      column_.offsets32 = offsets32_->data();
    } else if (kind.kind() == 'i' && kind.itemsize() == 8) {
      offsets64_ = Column<std::int64_t>::ensure(offsets);
      check_offsets(*offsets64_, n, data_size);
      column_.offsets64 = offsets64_->data();
    } else {
      throw py::value_error("offsets must be an int32 or int64 array, or uint8 string views");
    }
  }

  const waconv::StringColumn& column() const { return column_; }

 private:
  static Column<std::uint8_t> bytes(const py::handle& array, const std::string& name) {
    auto found = Column<std::uint8_t>::ensure(array);
    if (!found || found.ndim() != 1) throw py::value_error(name + " must be a one-dimensional uint8 array");
    return found;
  }

  void read_views(const py::array& views, const py::object& data, std::size_t n) {
    views_ = bytes(views, "views");
    if (static_cast<std::size_t>(views_->size()) != waconv::ViewStrings::kViewBytes * n) {
      throw py::value_error("views must hold 16 bytes per value");
    }
    if (!py::isinstance<py::list>(data) && !py::isinstance<py::tuple>(data)) {
      throw py::value_error("with string views, data must be a list of the data buffers");
    }
    std::vector<std::int64_t> sizes;
    for (const py::handle buffer : data) {
      data_.push_back(bytes(buffer, "every data buffer"));
      const char* start = reinterpret_cast<const char*>(data_.back().data());
      buffer_starts_.push_back(start);
      buffer_ends_.push_back(start + data_.back().size());
      sizes.push_back(data_.back().size());
    }
    column_.views = views_->data();
    column_.view_buffers = buffer_starts_.data();
    column_.view_buffer_ends = buffer_ends_.data();
    check_views(column_, sizes);
  }

  waconv::StringColumn column_;
  std::optional<Column<std::int32_t>> offsets32_;
  std::optional<Column<std::int64_t>> offsets64_;
  std::optional<Column<std::uint8_t>> views_;
  std::vector<Column<std::uint8_t>> data_;
  std::vector<const char*> buffer_starts_, buffer_ends_;
};

}  // namespace waconv::bindings
