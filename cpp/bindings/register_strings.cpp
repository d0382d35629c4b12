// Factorizing and encoding Arrow string columns from their raw buffers (the Python side pulls them out of
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
using waconv::bindings::Column;
using waconv::bindings::to_numpy;

namespace {

// Arrow's contract on an offsets buffer, checked here because the core trusts it for every
// memory access: size + 1 non-negative, non-decreasing entries, the last within the data.
template <class Offset>
void check_offsets(const Column<Offset>& offsets, std::size_t size, std::size_t data_size) {
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

py::tuple factorize_strings(const py::array& offsets, const Column<std::uint8_t>& data,
                            const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                            std::int64_t size) {
  const ArrowStrings strings(offsets, data, validity, validity_offset, size);
  waconv::FactorizedStrings result;
  {
    py::gil_scoped_release release;
    result = waconv::factorize_sorted(strings.column());
  }
  return py::make_tuple(to_numpy(std::move(result.codes)), to_numpy(std::move(result.first_row)));
}

py::tuple encode_strings(const py::array& offsets, const Column<std::uint8_t>& data,
                         const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                         std::int64_t size, const std::vector<std::string>& vocabulary, int threads) {
  if (vocabulary.size() > 127) throw py::value_error("at most 127 vocabulary entries");
  const ArrowStrings strings(offsets, data, validity, validity_offset, size);
  waconv::VocabularyCodes result;
  {
    py::gil_scoped_release release;
    result = waconv::encode_vocabulary(strings.column(), vocabulary, threads);
  }
  return py::make_tuple(to_numpy(std::move(result.codes)), result.first_unknown, result.first_null);
}

}  // namespace

void register_strings(py::module_& m) {
  m.def("factorize_strings", &factorize_strings, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"),
        "Sorted factorization of an Arrow utf8/large_utf8 array given its buffers: (int32 codes, "
        "-1 for null; int64 first row of each distinct string, in bytewise = code point order).");
  m.def("encode_strings", &encode_strings, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("vocabulary"), py::arg("threads") = 0,
        "Codes of an Arrow utf8/large_utf8 array against an exact vocabulary: (int8 codes, -1 for null; "
        "first row matching no entry or -1, after which codes are unspecified; first null row or -1).");
}
