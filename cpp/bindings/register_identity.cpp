// Identity resolution (SPEC §2): the id columns' codes in, one user code per row out.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "waconv/identity.hpp"

namespace py = pybind11;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::to_numpy;

namespace {

// nodes[c]: an int32 array (the node of each code of column c, -1 = no id), or a tuple
// (code_count, first_code, offset): code k is node k + offset for k >= first_code.
py::tuple resolve_identity(const std::vector<Column<std::int32_t>>& codes, const py::list& nodes,
                           const Column<std::uint8_t>& preferred, int threads) {
  if (codes.empty()) throw py::value_error("at least one id column is required");
  if (codes.size() != nodes.size()) throw py::value_error("one nodes entry per id column is required");
  if (preferred.ndim() != 1) throw py::value_error("preferred must be one-dimensional");
  const auto rows = static_cast<std::size_t>(codes[0].size());
  std::vector<waconv::IdColumn> columns;
  std::vector<Column<std::int32_t>> maps;  // keeps the node arrays alive
  maps.reserve(codes.size());
  for (std::size_t c = 0; c < codes.size(); ++c) {
    const std::string name = "codes[" + std::to_string(c) + "]";
    waconv::IdColumn column;
    column.codes = data_of<std::int32_t>(std::optional(codes[c]), rows, name.c_str());
    const py::handle entry = nodes[c];
    if (py::isinstance<py::tuple>(entry)) {
      const auto shift = entry.cast<std::tuple<std::int64_t, std::int32_t, std::int64_t>>();
      if (std::get<0>(shift) < 0) throw py::value_error("code_count must not be negative");
      column.code_count = static_cast<std::size_t>(std::get<0>(shift));
      column.first_code = std::get<1>(shift);
      column.offset = std::get<2>(shift);
    } else {
      maps.push_back(Column<std::int32_t>::ensure(entry));
      if (!maps.back() || maps.back().ndim() != 1) throw py::value_error("nodes must be int32 arrays or tuples");
      column.node_of_code = maps.back().data();
      column.code_count = static_cast<std::size_t>(maps.back().size());
    }
    columns.push_back(column);
  }
  const auto node_count = static_cast<std::size_t>(preferred.size());
  waconv::Identity out;
  {
    py::gil_scoped_release release;
    out = waconv::resolve_identity(columns, rows, node_count, preferred.data(), threads);
  }
  return py::make_tuple(to_numpy(std::move(out.group)), to_numpy(std::move(out.key_node)), out.first_missing);
}

}  // namespace

void register_identity(py::module_& m) {
  m.def("resolve_identity", &resolve_identity, py::arg("codes"), py::arg("nodes"), py::arg("preferred"),
        py::arg("threads") = 0,
        "Links the ids of each row (codes[c]: int32 per row, -1 = null; nodes[c]: int32 node per code, "
        "-1 = no id, or (code_count, first_code, offset): node = code + offset from first_code on) "
        "transitively: (int32 group per row, in ascending key-node order; int32 key node per group: its "
        "smallest preferred node, else its smallest node; first row with no id or -1, after which the "
        "groups are unspecified). preferred: uint8 per node.");
}
