// Helpers shared by the binding files: NumPy columns in (no per-row Python objects), new
// NumPy arrays out that take ownership of the core's vectors without copying.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "waconv/events.hpp"
#include "waconv/rules.hpp"

namespace waconv::bindings {

namespace py = pybind11;

template <class T>
using Column = py::array_t<T, py::array::c_style | py::array::forcecast>;

// The column's data pointer after checking its length; nullptr for an absent optional column.
template <class T>
const T* data_of(const std::optional<Column<T>>& column, std::size_t size, const char* name) {
  if (!column) return nullptr;
  if (column->ndim() != 1 || static_cast<std::size_t>(column->shape(0)) != size) {
    throw py::value_error(std::string("column '") + name + "' must be one-dimensional with one value per row");
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

// uint8 flags come back as NumPy bool without a copy (same size, 0/1 values).
template <class Allocator>
py::array to_numpy_bool(std::vector<std::uint8_t, Allocator>&& values) {
  using Owned = std::vector<std::uint8_t, Allocator>;
  auto* owned = new Owned(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<Owned*>(p); });
  return py::array(py::dtype("bool"), {owned->size()}, {sizeof(std::uint8_t)}, owned->data(), owner);
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

}  // namespace waconv::bindings
