// Datetime columns (pandas' int64 storage in any unit) to the core's int64 ns instants.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "waconv/events.hpp"

namespace py = pybind11;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::to_numpy;

namespace {

py::tuple instants(const Column<std::int64_t>& raw, std::int64_t unit_ns, int threads) {
  const auto n = static_cast<std::size_t>(raw.size());
  const std::int64_t* values = data_of<std::int64_t>(raw, n, "raw");
  waconv::InstantColumn out;
  {
    py::gil_scoped_release release;
    out = waconv::instants_from(values, n, unit_ns, threads);
  }
  return py::make_tuple(to_numpy(std::move(out.instants)), out.first_out_of_range);
}

py::tuple delivery_instants(const Column<std::int64_t>& raw, std::int64_t unit_ns, const Column<std::int64_t>& sent,
                            const Column<std::int8_t>& direction, int threads) {
  const auto n = static_cast<std::size_t>(raw.size());
  const std::int64_t* values = data_of<std::int64_t>(raw, n, "raw");
  const std::int64_t* sent_at = data_of<std::int64_t>(sent, n, "sent");
  const std::int8_t* directions = data_of<std::int8_t>(direction, n, "direction");
  waconv::InstantColumn out;
  {
    py::gil_scoped_release release;
    out = waconv::delivery_instants_from(values, n, unit_ns, sent_at, directions, threads);
  }
  return py::make_tuple(to_numpy(std::move(out.instants)), out.first_out_of_range, out.first_before_sent);
}

}  // namespace

void register_instants(py::module_& m) {
  m.def("instants", &instants, py::arg("raw"), py::arg("unit_ns"), py::arg("threads") = 0,
        "int64 datetimes in units of unit_ns ns (NaT = INT64_MIN) to ns: (instants, first row outside "
        "2000..2100 or -1); such rows are clamped just outside the range.");
  m.def("delivery_instants", &delivery_instants, py::arg("raw"), py::arg("unit_ns"), py::arg("sent"),
        py::arg("direction"), py::arg("threads") = 0,
        "instants() for the delivery column, kept for outbound rows only: (instants, first row outside "
        "2000..2100 or -1, first row delivered before sent or -1).");
}
