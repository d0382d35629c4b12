// Factorizing id columns (Arrow strings from their raw buffers, int64 arrays) and encoding
// fixed-vocabulary Arrow string columns (the Python side pulls them out of
// pyarrow as NumPy views), so no Python string object is ever created per row.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>

#include "arrays.hpp"
#include "waconv/strings.hpp"

namespace py = pybind11;
using waconv::bindings::ArrowStrings;
using waconv::bindings::Column;
using waconv::bindings::to_numpy;

namespace {

py::tuple factorize_strings(const py::array& offsets, const py::object& data,
                            const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                            std::int64_t size, int threads, int partitions) {
  const ArrowStrings strings(offsets, data, validity, validity_offset, size);
  waconv::FactorizedStrings result;
  {
    py::gil_scoped_release release;
    result = waconv::factorize_sorted(strings.column(), threads, partitions);
  }
  return py::make_tuple(to_numpy(std::move(result.codes)), to_numpy(std::move(result.first_row)));
}

py::tuple factorize_integers(const Column<std::int64_t>& values, int threads) {
  if (values.ndim() != 1) throw py::value_error("values must be one-dimensional");
  const auto n = static_cast<std::size_t>(values.size());
  const std::int64_t* data = values.data();
  waconv::FactorizedIntegers result;
  {
    py::gil_scoped_release release;
    result = waconv::factorize_integers(data, n, threads);
  }
  return py::make_tuple(to_numpy(std::move(result.codes)), to_numpy(std::move(result.uniques)));
}

py::tuple encode_strings(const py::array& offsets, const py::object& data,
                         const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                         std::int64_t size, const std::vector<std::string>& vocabulary,
                         const std::vector<std::int8_t>& codes, std::int8_t null_code, int threads) {
  if (codes.size() != vocabulary.size()) throw py::value_error("one code per vocabulary entry is required");
  const ArrowStrings strings(offsets, data, validity, validity_offset, size);
  waconv::VocabularyCodes result;
  {
    py::gil_scoped_release release;
    result = waconv::encode_vocabulary(strings.column(), vocabulary, codes, null_code, threads);
  }
  return py::make_tuple(to_numpy(std::move(result.codes)), result.first_unknown, result.first_null);
}

py::array string_hashes(const py::array& offsets, const py::object& data,
                        const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                        std::int64_t size, int threads) {
  const ArrowStrings strings(offsets, data, validity, validity_offset, size);
  std::vector<std::uint64_t> hashes;
  {
    py::gil_scoped_release release;
    hashes = waconv::string_hashes(strings.column(), threads);
  }
  return to_numpy(std::move(hashes));
}

}  // namespace

void register_strings(py::module_& m) {
  m.def("factorize_strings", &factorize_strings, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("threads") = 0, py::arg("partitions") = 0,
        "Sorted factorization of an Arrow utf8/large_utf8 array given its buffers: (int32 codes, "
        "-1 for null; int64 first row of each distinct string, in bytewise = code point order). "
        "From 2^20 rows the distinct strings are numbered in `partitions` hash partitions, one "
        "thread each (0: one per thread).");
  m.def("factorize_integers", &factorize_integers, py::arg("values"), py::arg("threads") = 0,
        "Sorted factorization of an int64 array: (int32 codes, sorted int64 uniques).");
  m.def("encode_strings", &encode_strings, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("vocabulary"), py::arg("codes"), py::arg("null_code"),
        py::arg("threads") = 0,
        "Codes of an Arrow utf8/large_utf8 array against an exact vocabulary: (int8 array holding codes[k] "
        "for vocabulary[k] and null_code for nulls; first row matching no entry or -1, after which the "
        "array is unspecified; first null row or -1).");
  m.def("string_hashes", &string_hashes, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("threads") = 0,
        "uint64 hash of each value of an Arrow utf8/large_utf8/string_view array given its buffers (the core's "
        "string hash: the same in every process), 0 for nulls.");
}
