// Python object columns of text (pandas' object dtype) in Arrow's large_string layout, so
// the core's string code reads them as it reads Arrow columns. pyarrow.array does the same
// but checks and converts value by value through its generic machinery, several times
// slower; here an ASCII str (nearly every id) is one length read and one copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../src/parallel.hpp"  // the core's one parallel-for
#include "arrays.hpp"

namespace py = pybind11;

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
  // Item i + kAhead is asked for while item i is read: the objects lie anywhere in the heap
  // (a column of repeated values shares a few), and waiting for each header in turn was
  // most of the time of a pass over them.
  void prefetch_ahead(std::size_t i) const {
    if (i + kAhead < size_) __builtin_prefetch((*this)[i + kAhead]);
  }

  static constexpr std::size_t kAhead = 16;

 private:
  std::size_t size_ = 0;
  py::ssize_t stride_ = 0;
  const char* base_ = nullptr;
};

// A str that is not compact ASCII: its UTF-8 form, made by CPython on request, needs the
// GIL, so such a str is read after the parallel pass (rare in ids and categories).
struct WideText {
  std::size_t row;
  const char* data = nullptr;  // filled with the GIL held
  std::size_t size = 0;
};

// What a pass over one chunk of rows found. Chunks start at multiples of 8 rows, so each
// owns whole bytes of the validity bitmap.
struct ChunkText {
  std::size_t bytes = 0;  // of every str's UTF-8 form
  std::size_t nulls = 0;
  bool other = false;  // an item that is neither a str nor a null
  std::vector<WideText> wide;
};

constexpr std::size_t kBitmapRows = 8;

// The items in `threads` chunks, each a whole number of bitmap bytes: body(first, last, k).
template <class Body>
void in_chunks(std::size_t n, std::size_t threads, Body body) {
  const std::size_t blocks = (n + kBitmapRows - 1) / kBitmapRows;
  waconv::detail::parallel_chunks(blocks, threads, [&](std::size_t first, std::size_t last, std::size_t k) {
    body(first * kBitmapRows, std::min(last * kBitmapRows, n), k);
  });
}

// Items first..last-1 by what they are, read with the GIL released: ascii(i, value) for a
// compact ASCII str, wide(i) for any other str, null(i) for None, NaN or `na` (pandas.NA);
// false at the first item that is none of these. Only the object headers and an ASCII
// str's own bytes are read: a str is immutable and the array keeps each item alive for the
// call (a thread rewriting this same array meanwhile is a race of the caller's making, as
// it would be for any reader of it).
template <class Ascii, class Wide, class Null>
bool each_item(const Objects& items, PyObject* na, std::size_t first, std::size_t last, Ascii ascii, Wide wide,
               Null null) {
  for (std::size_t i = first; i < last; ++i) {
    items.prefetch_ahead(i);
    PyObject* value = items[i];
    if (PyUnicode_Check(value)) {
      if (PyUnicode_IS_COMPACT_ASCII(value)) {
        ascii(i, value);
      } else {
        wide(i);
      }
    } else if (is_null(value, na)) {
      null(i);
    } else {
      return false;
    }
  }
  return true;
}

// Sizes the UTF-8 of items that are all a str with UTF-8 bytes or a null; nothing for
// anything else. Every core reads the items (each_item), then the wide ones get their UTF-8
// with the GIL held.
std::optional<std::vector<ChunkText>> measure_text(const Objects& items, PyObject* na, int threads) {
  const std::size_t n = items.size();
  std::vector<ChunkText> chunks(waconv::detail::thread_count(threads, n));
  {
    py::gil_scoped_release release;
    in_chunks(n, chunks.size(), [&](std::size_t first, std::size_t last, std::size_t k) {
      ChunkText& chunk = chunks[k];
      chunk.other = !each_item(
          items, na, first, last,
          [&](std::size_t, PyObject* text) { chunk.bytes += static_cast<std::size_t>(PyUnicode_GET_LENGTH(text)); },
          [&](std::size_t row) { chunk.wide.push_back({row}); }, [&](std::size_t) { ++chunk.nulls; });
    });
  }
  for (ChunkText& chunk : chunks) {
    if (chunk.other) return std::nullopt;
    for (WideText& text : chunk.wide) {
      Py_ssize_t size;
      if (!utf8_of(items[text.row], text.data, size)) return std::nullopt;
      text.size = static_cast<std::size_t>(size);
      chunk.bytes += text.size;
    }
  }
  return chunks;
}

bool objects_are_text(const py::array& values, const py::handle& na, int threads) {
  return measure_text(Objects(values), na.ptr(), threads).has_value();
}

// (int64 offsets, uint8 data, validity bitmap or None, null count) of a 1-d object array
// holding only str and nulls; None for anything else, which the caller then reads its own
// way. Two passes over the objects, each on every core with the GIL released: the first
// (measure_text) sizes each chunk's bytes exactly, so the second writes each string once
// into memory that never moves (growing one buffer as bytes arrived cost several times the
// first pass: reallocation and twice the pages touched).
py::object strings_from_objects(const py::array& values, const py::handle& na, int threads) {
  const Objects items(values);
  const std::size_t n = items.size();
  const std::optional<std::vector<ChunkText>> measured = measure_text(items, na.ptr(), threads);
  if (!measured) return py::none();
  const std::vector<ChunkText>& chunks = *measured;
  std::vector<std::size_t> starts(chunks.size() + 1, 0);  // each chunk's first byte
  std::size_t nulls = 0;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    starts[k + 1] = starts[k] + chunks[k].bytes;
    nulls += chunks[k].nulls;
  }
  py::array_t<std::int64_t> offsets(static_cast<py::ssize_t>(n + 1));
  py::array_t<std::uint8_t> data(static_cast<py::ssize_t>(starts.back()));
  py::object bitmap = py::none();
  std::uint8_t* validity = nullptr;
  if (nulls > 0) {
    py::array_t<std::uint8_t> bits(static_cast<py::ssize_t>((n + 7) / 8));
    validity = bits.mutable_data();
    bitmap = std::move(bits);
  }
  std::int64_t* offset = offsets.mutable_data();
  std::uint8_t* out = data.mutable_data();
  {
    py::gil_scoped_release release;
    in_chunks(n, chunks.size(), [&](std::size_t first, std::size_t last, std::size_t k) {
      const ChunkText& chunk = chunks[k];
      std::size_t at = starts[k];
      std::size_t wide = 0;  // the next of the chunk's wide strings
      if (validity != nullptr) std::memset(validity + first / 8, 0, (last - first + 7) / 8);
      for (std::size_t i = first; i < last; ++i) {
        items.prefetch_ahead(i);
        PyObject* value = items[i];
        offset[i] = static_cast<std::int64_t>(at);
        if (!PyUnicode_Check(value)) continue;  // a null: the first pass saw nothing else
        const char* text;
        std::size_t size;
        if (wide < chunk.wide.size() && chunk.wide[wide].row == i) {
          text = chunk.wide[wide].data;
          size = chunk.wide[wide].size;
          ++wide;
        } else {
          text = static_cast<const char*>(PyUnicode_DATA(value));
          size = static_cast<std::size_t>(PyUnicode_GET_LENGTH(value));
        }
        std::memcpy(out + at, text, size);
        at += size;
        if (validity != nullptr) validity[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
      }
    });
  }
  offset[n] = static_cast<std::int64_t>(starts.back());
  return py::make_tuple(std::move(offsets), std::move(data), bitmap, nulls);
}

// The vocabulary code of each item of a column of few distinct values (direction, template
// category). Such a column holds the same few str objects over and over, so a str seen
// before is known by its address alone: converting it to Arrow strings first, then encoding
// those, cost 0.2-0.3 s per 10M rows more. One per thread.
class ObjectVocabulary {
 public:
  ObjectVocabulary(const std::vector<std::string>& vocabulary, const std::vector<std::int8_t>& codes)
      : vocabulary_(vocabulary), codes_(codes) {}

  // The code of a compact ASCII str (kUnknown if it is spelled otherwise); any other str
  // is looked up by code_of_text, from its UTF-8 form.
  int code_of_ascii(PyObject* text) {
    Recent& slot = recent_[(reinterpret_cast<std::uintptr_t>(text) >> 4) % recent_.size()];
    if (slot.object == text) return slot.code;
    const int code = code_of_text(std::string_view(static_cast<const char*>(PyUnicode_DATA(text)),
                                                   static_cast<std::size_t>(PyUnicode_GET_LENGTH(text))));
    // The address stays this str's while the array being read holds it, for the whole pass.
    slot = {text, code};
    return code;
  }

  int code_of_text(std::string_view value) const {
    for (std::size_t k = 0; k < vocabulary_.size(); ++k) {
      if (vocabulary_[k] == value) return codes_[k];
    }
    return kUnknown;
  }

  static constexpr int kUnknown = 1 << 10;  // outside int8: no vocabulary code

 private:
  struct Recent {
    PyObject* object = nullptr;
    int code = kUnknown;
  };
  const std::vector<std::string>& vocabulary_;
  const std::vector<std::int8_t>& codes_;
  std::array<Recent, 64> recent_{};
};

// What encoding one chunk of rows found.
struct ChunkCodes {
  std::int64_t first_unknown = -1;
  std::int64_t first_null = -1;
  bool other = false;  // an item that is neither a str nor a null
  std::vector<std::size_t> wide_rows;  // str that are not compact ASCII, coded with the GIL held
};

// (int8 codes, first unknown row or -1, first null row or -1) as encode_strings gives them
// for the same values as Arrow strings; None when an item is neither a str with UTF-8 nor a
// null (None, NaN, `na`). On every core with the GIL released, as strings_from_objects.
py::object encode_objects(const py::array& values, const py::handle& na, const std::vector<std::string>& vocabulary,
                          const std::vector<std::int8_t>& codes, std::int8_t null_code, int threads) {
  if (codes.size() != vocabulary.size()) throw py::value_error("one code per vocabulary entry is required");
  const Objects items(values);
  const std::size_t n = items.size();
  py::array_t<std::int8_t> encoded(static_cast<py::ssize_t>(n));
  std::int8_t* out = encoded.mutable_data();
  std::vector<ChunkCodes> chunks(waconv::detail::thread_count(threads, n));
  PyObject* const null_value = na.ptr();
  {
    py::gil_scoped_release release;
    in_chunks(n, chunks.size(), [&](std::size_t first, std::size_t last, std::size_t k) {
      ChunkCodes& chunk = chunks[k];
      ObjectVocabulary lookup(vocabulary, codes);
      chunk.other = !each_item(
          items, null_value, first, last,
          [&](std::size_t row, PyObject* text) {
            const int code = lookup.code_of_ascii(text);
            if (code == ObjectVocabulary::kUnknown && chunk.first_unknown < 0) {
              chunk.first_unknown = static_cast<std::int64_t>(row);
            }
            out[row] = code == ObjectVocabulary::kUnknown ? 0 : static_cast<std::int8_t>(code);
          },
          [&](std::size_t row) { chunk.wide_rows.push_back(row); },
          [&](std::size_t row) {
            if (chunk.first_null < 0) chunk.first_null = static_cast<std::int64_t>(row);
            out[row] = null_code;
          });
    });
  }
  const ObjectVocabulary lookup(vocabulary, codes);
  std::int64_t first_unknown = -1;
  std::vector<std::int64_t> first_nulls;
  for (const ChunkCodes& chunk : chunks) {
    if (chunk.other) return py::none();
    first_nulls.push_back(chunk.first_null);
    if (first_unknown < 0) first_unknown = chunk.first_unknown;
    for (std::size_t row : chunk.wide_rows) {
      const char* data;
      Py_ssize_t size;
      if (!utf8_of(items[row], data, size)) return py::none();
      const int code = lookup.code_of_text(std::string_view(data, static_cast<std::size_t>(size)));
      if (code == ObjectVocabulary::kUnknown) {
        out[row] = 0;
        const auto at = static_cast<std::int64_t>(row);
        if (first_unknown < 0 || at < first_unknown) first_unknown = at;
      } else {
        out[row] = static_cast<std::int8_t>(code);
      }
    }
  }
  return py::make_tuple(std::move(encoded), first_unknown, waconv::detail::first_found(first_nulls));
}

}  // namespace

void register_objects(py::module_& m) {
  m.def("objects_are_text", &objects_are_text, py::arg("values"), py::arg("na"), py::arg("threads") = 0,
        "Whether a 1-d object array holds only str with UTF-8 bytes (no lone surrogate) and nulls "
        "(None, NaN, `na`).");
  m.def("strings_from_objects", &strings_from_objects, py::arg("values"), py::arg("na"), py::arg("threads") = 0,
        "A 1-d object array of str and nulls (None, NaN, `na`) in Arrow's large_string layout: "
        "(int64 offsets, uint8 UTF-8 data, validity bitmap or None, null count); None when it holds "
        "anything else or a str without UTF-8 (a lone surrogate).");
  m.def("encode_objects", &encode_objects, py::arg("values"), py::arg("na"), py::arg("vocabulary"), py::arg("codes"),
        py::arg("null_code"), py::arg("threads") = 0,
        "encode_strings for a 1-d object array: (int8 codes, first row matching no entry or -1, first null "
        "row or -1); None when it holds anything but str with UTF-8 and nulls (None, NaN, `na`).");
}
