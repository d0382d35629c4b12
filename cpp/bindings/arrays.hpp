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

// A StringColumn over buffers handed in from Python, checked, with the (possibly converted)
// offsets kept alive as long as the view.
class ArrowStrings {
 public:
  ArrowStrings(const py::array& offsets, const Column<std::uint8_t>& data,
               const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset, std::int64_t size) {
    if (size < 0) throw py::value_error("size must not be negative");
    if (data.ndim() != 1) throw py::value_error("data must be one-dimensional");
    const auto n = static_cast<std::size_t>(size);
    column_.size = n;
    column_.data = reinterpret_cast<const char*>(data.data());
    const py::dtype kind = offsets.dtype();
    if (kind.kind() == 'i' && kind.itemsize() == 4) {
      offsets32_ = Column<std::int32_t>::ensure(offsets);
      check_offsets(*offsets32_, n, static_cast<std::size_t>(data.size()));
      column_.offsets32 = offsets32_->data();
    } else if (kind.kind() == 'i' && kind.itemsize() == 8) {
      offsets64_ = Column<std::int64_t>::ensure(offsets);
      check_offsets(*offsets64_, n, static_cast<std::size_t>(data.size()));
      column_.offsets64 = offsets64_->data();
    } else {
      throw py::value_error("offsets must be an int32 or int64 array");
    }
    if (validity) {
      if (validity_offset < 0) throw py::value_error("validity_offset must not be negative");
      const auto bits_needed = static_cast<std::size_t>(validity_offset) + n;
      if (validity->ndim() != 1 || static_cast<std::size_t>(validity->size()) * 8 < bits_needed) {
        throw py::value_error("validity must be a one-dimensional bitmap of at least validity_offset + size bits");
      }
      column_.validity = validity->data();
      column_.validity_offset = validity_offset;
    }
  }

  const waconv::StringColumn& column() const { return column_; }

 private:
  waconv::StringColumn column_;
  std::optional<Column<std::int32_t>> offsets32_;
  std::optional<Column<std::int64_t>> offsets64_;
};

}  // namespace waconv::bindings
