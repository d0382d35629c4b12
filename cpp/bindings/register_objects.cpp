// Python object columns of text (pandas' object dtype) in Arrow's large_string layout, so
// the core's string code reads them as it reads Arrow columns. pyarrow.array does the same
// but checks and converts value by value through its generic machinery, several times
// slower; here an ASCII str (nearly every id) is one length read and one memcpy.
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

// First pass: whether every item is a str with UTF-8 bytes or a null (None, NaN, `na`:
// pandas.NA); if so, offsets (when given, n + 1 entries) and the null count.
bool read_text(const Objects& items, PyObject* na, std::int64_t* offsets, std::size_t& nulls) {
  nulls = 0;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    PyObject* value = items[i];
    if (offsets != nullptr) offsets[i] = total;
    if (PyUnicode_Check(value)) {
      const char* data;
      Py_ssize_t size;
      if (!utf8_of(value, data, size)) return false;
      total += size;
    } else if (is_null(value, na)) {
      ++nulls;
    } else {
      return false;
    }
  }
  if (offsets != nullptr) offsets[items.size()] = total;
  return true;
}

bool objects_are_text(const py::array& values, const py::handle& na) {
  std::size_t nulls = 0;
  return read_text(Objects(values), na.ptr(), nullptr, nulls);
}

// (int64 offsets, uint8 data, validity bitmap or None, null count) of a 1-d object array
// holding only str and nulls; None for anything else, which the caller then reads its
// own way.
py::object strings_from_objects(const py::array& values, const py::handle& na) {
  const Objects item(values);
  const std::size_t n = item.size();
  std::vector<std::int64_t> offsets(n + 1);
  std::size_t nulls = 0;
  if (!read_text(item, na.ptr(), offsets.data(), nulls)) return py::none();
  const std::int64_t total = offsets[n];
  std::vector<std::uint8_t> data(static_cast<std::size_t>(total));
  std::vector<std::uint8_t> validity(nulls > 0 ? (n + 7) / 8 : 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    PyObject* value = item[i];
    if (!PyUnicode_Check(value)) continue;  // a null: no bytes, its validity bit stays 0
    const char* bytes;
    Py_ssize_t size;
    utf8_of(value, bytes, size);  // succeeded in the first pass
    if (size > 0) std::memcpy(data.data() + offsets[i], bytes, static_cast<std::size_t>(size));
    if (nulls > 0) validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  }
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
