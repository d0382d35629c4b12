#include <pybind11/pybind11.h>

#include "waconv/events.hpp"

namespace py = pybind11;

void register_codes(py::module_& m);
void register_classify(py::module_& m);
void register_price(py::module_& m);
void register_strings(py::module_& m);
void register_instants(py::module_& m);
void register_identity(py::module_& m);
void register_webhooks(py::module_& m);
void register_webhook_aggregate(py::module_& m);
void register_duplicates(py::module_& m);
void register_objects(py::module_& m);
void register_phase_two(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "waconv's C++ engine. Use the public API in `waconv`; this module is internal.";

  // The core's InputError becomes waconv.InputError with the same column, row and reason.
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const waconv::InputError& e) {
      py::object cls = py::module_::import("waconv._errors").attr("InputError");
      py::object row = e.row() >= 0 ? py::object(py::int_(e.row())) : py::object(py::none());
      py::object instance = cls(e.column(), row, e.reason());
      PyErr_SetObject(cls.ptr(), instance.ptr());
    }
  });

  register_codes(m);
  register_classify(m);
  register_price(m);
  register_strings(m);
  register_instants(m);
  register_identity(m);
  register_webhooks(m);
  register_webhook_aggregate(m);
  register_duplicates(m);
  register_objects(m);
  register_phase_two(m);
}
