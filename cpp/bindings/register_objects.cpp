// Python object columns of text (pandas' object dtype) in Arrow's large_string layout, so
// the core's string code reads them as it reads Arrow columns. pyarrow.array does the same
// but checks and converts value by value through its generic machinery, several times
// slower; here an ASCII str (nearly every id) is one length read and one copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "arrays.hpp"

namespace py = pybind11;
using waconv::bindings::to_numpy;

namespace {

// The UTF-8 bytes of a str (no copy: CPython keeps them in the object, for a non-ASCII
// string from its first UTF-8 request on); false if it has none (a lone surrogate).
bool utf8_of(PyObject* text, const char*& data, Py_ssize_t& size) {
  if (PyUnicode_IS_COMPACT_ASCII(text)) {
    data = static_cast<const char*>(PyUnicode_DATA(text));
    size = PyUnicode_GET_LENGTH(text);
    return true;
  }
  data = PyUnicode_AsUTF8AndSize(text, &size);
  if (data == nullptr) {
    PyErr_Clear();
    return false;
  }
  return true;
}

bool is_null(PyObject* value, PyObject* na) {
  return value == Py_None || value == na || (PyFloat_Check(value) && std::isnan(PyFloat_AS_DOUBLE(value)));
}

// The items of a 1-d object array.
class Objects {
 public:
  explicit Objects(const py::array& values) {
    if (values.dtype().kind() != 'O' || values.ndim() != 1) throw py::value_error("expected a 1-d object array");
    size_ = static_cast<std::size_t>(values.shape(0));
    stride_ = values.strides(0);
    base_ = static_cast<const char*>(values.data());
  }
  std::size_t size() const { return size_; }
  PyObject* operator[](std::size_t i) const {
    return *reinterpret_cast<PyObject* const*>(base_ + stride_ * static_cast<py::ssize_t>(i));
  }

 private:
  std::size_t size_ = 0;
  py::ssize_t stride_ = 0;
  const char* base_ = nullptr;
};

// Whether every item is a str with UTF-8 bytes or a null (None, NaN, `na`: pandas.NA).
bool objects_are_text(const py::array& values, const py::handle& na) {
  const Objects items(values);
  for (std::size_t i = 0; i < items.size(); ++i) {
    PyObject* value = items[i];
    if (PyUnicode_Check(value)) {
      const char* data;
      Py_ssize_t size;
      if (!utf8_of(value, data, size)) return false;
    } else if (!is_null(value, na.ptr())) {
      return false;
    }
  }
  return true;
}

// (int64 offsets, uint8 data, validity bitmap or None, null count) of a 1-d object array
// holding only str and nulls; None for anything else, which the caller then reads its own
// way. One pass over the objects: each is a pointer into the heap, so visiting 10M of them
// costs more than appending their bytes, and the bitmap is only made at the first null.
py::object strings_from_objects(const py::array& values, const py::handle& na) {
  const Objects items(values);
  const std::size_t n = items.size();
  std::vector<std::int64_t> offsets(n + 1);
  std::vector<std::uint8_t> data;
  data.reserve(n * 16);  // address space only: pages are touched as bytes land
  std::vector<std::uint8_t> validity;
  std::size_t nulls = 0;
  for (std::size_t i = 0; i < n; ++i) {
    PyObject* value = items[i];
    offsets[i] = static_cast<std::int64_t>(data.size());
    if (PyUnicode_Check(value)) {
      const char* bytes;
      Py_ssize_t size;
      if (!utf8_of(value, bytes, size)) return py::none();
      data.insert(data.end(), bytes, bytes + size);
      if (!validity.empty()) validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
    } else if (is_null(value, na.ptr())) {
      if (validity.empty()) {  // the first null: every earlier row is valid
        validity.assign((n + 7) / 8, 0);
        for (std::size_t k = 0; k < i; ++k) validity[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
      }
      ++nulls;
    } else {
      return py::none();
    }
  }
  offsets[n] = static_cast<std::int64_t>(data.size());
  py::object bitmap = nulls > 0 ? py::object(to_numpy(std::move(validity))) : py::object(py::none());
  return py::make_tuple(to_numpy(std::move(offsets)), to_numpy(std::move(data)), bitmap, nulls);
}

}  // namespace

void register_objects(py::module_& m) {
  m.def("objects_are_text", &objects_are_text, py::arg("values"), py::arg("na"),
        "Whether a 1-d object array holds only str with UTF-8 bytes (no lone surrogate) and nulls "
        "(None, NaN, `na`).");
  m.def("strings_from_objects", &strings_from_objects, py::arg("values"), py::arg("na"),
        "A 1-d object array of str and nulls (None, NaN, `na`) in Arrow's large_string layout: "
        "(int64 offsets, uint8 UTF-8 data, validity bitmap or None, null count); None when it holds "
        "anything else or a str without UTF-8 (a lone surrogate).");
}
