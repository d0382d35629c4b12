// Repeated (message id, direction) rows, from the ids' Arrow buffers or an int64 array and
// the direction codes: a uint8 flag per row, computed with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "waconv/duplicates.hpp"

namespace py = pybind11;
using waconv::bindings::ArrowStrings;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::to_numpy;

namespace {

py::array duplicate_strings(const py::array& offsets, const py::object& data,
                            const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                            std::int64_t size, const Column<std::int8_t>& direction, int threads) {
  const ArrowStrings ids(offsets, data, validity, validity_offset, size);
  const std::int8_t* directions = data_of<std::int8_t>(std::optional(direction), ids.column().size, "direction");
  std::vector<std::uint8_t> duplicate;
  {
    py::gil_scoped_release release;
    duplicate = waconv::duplicate_rows(ids.column(), directions, threads);
  }
  return to_numpy(std::move(duplicate));
}

py::array duplicate_integers(const Column<std::int64_t>& ids, const Column<std::int8_t>& direction, int threads) {
  if (ids.ndim() != 1) throw py::value_error("ids must be one-dimensional");
  const auto n = static_cast<std::size_t>(ids.size());
  const std::int8_t* directions = data_of<std::int8_t>(std::optional(direction), n, "direction");
  const std::int64_t* values = ids.data();
  std::vector<std::uint8_t> duplicate;
  {
    py::gil_scoped_release release;
    duplicate = waconv::duplicate_rows(values, n, directions, threads);
  }
  return to_numpy(std::move(duplicate));
}

}  // namespace

void register_duplicates(py::module_& m) {
  m.def("duplicate_strings", &duplicate_strings, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("direction"), py::arg("threads") = 0,
        "uint8 per row of an Arrow utf8/large_utf8 id array given its buffers: 1 where an earlier row has "
        "the same id and direction code, 0 for first occurrences and null ids.");
  m.def("duplicate_integers", &duplicate_integers, py::arg("ids"), py::arg("direction"), py::arg("threads") = 0,
        "uint8 per row of an int64 id array: 1 where an earlier row has the same id and direction code.");
}
