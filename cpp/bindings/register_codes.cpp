#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "waconv/codes.hpp"

namespace py = pybind11;

namespace {
std::vector<std::string> as_list(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}
}  // namespace

// Exports the code tables so Python builds its categoricals from the core's own names.
void register_codes(py::module_& m) {
  m.attr("DIRECTIONS") = as_list(waconv::direction_names());
  m.attr("TEMPLATE_CATEGORIES") = as_list(waconv::template_category_names());
  m.attr("ERAS") = as_list(waconv::era_names());
  m.attr("PRICING_MODELS") = as_list(waconv::pricing_model_names());
  m.attr("PRICING_CATEGORIES") = as_list(waconv::pricing_category_names());
  m.attr("PRICING_TYPES") = as_list(waconv::pricing_type_names());
  m.attr("WINDOW_KINDS") = as_list(waconv::window_kind_names());
  m.attr("CHARGE_REASONS") = as_list(waconv::charge_reason_names());
}
