// Phase 2 as its own step (cpp/include/waconv/phase_two.hpp): a Classification rebuilt
// from verdict columns gathered from many partitions, and the monthly allowances run on it.
// `price` (register_price.cpp) then takes it like the result of one classify.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"
#include "waconv/allowances.hpp"
#include "waconv/phase_two.hpp"

namespace py = pybind11;
using waconv::bindings::ArrowStrings;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::make_clocks;

namespace {

template <class T, class Allocator>
void fill(std::vector<T, Allocator>& out, const py::dict& columns, const char* name, std::size_t size) {
  if (!columns.contains(name)) throw py::value_error(std::string("column '") + name + "' is missing");
  const auto column = columns[name].cast<Column<T>>();
  const T* data = data_of<T>(std::optional<Column<T>>(column), size, name);
  out.assign(data, data + size);
}

std::size_t length_of(const py::dict& columns, const char* name) {
  if (!columns.contains(name)) throw py::value_error(std::string("column '") + name + "' is missing");
  return static_cast<std::size_t>(py::len(columns[name]));
}

// Every per-row field of MessageVerdicts: apply_allowances and price rewrite some of them
// in place, and the caller reads all of them back (to_numpy), so none may be left out.
waconv::Classification gathered(const py::dict& messages, const py::dict& conversations) {
  waconv::Classification out;
  const std::size_t n = length_of(messages, "era");
  auto& m = out.messages;
  fill(m.era, messages, "era", n);
  fill(m.pricing_model, messages, "pricing_model", n);
  fill(m.pricing_category, messages, "pricing_category", n);
  fill(m.pricing_type, messages, "pricing_type", n);
  fill(m.conversation_id, messages, "conversation_id", n);
  fill(m.opens_conversation, messages, "opens_conversation", n);
  fill(m.csw_open, messages, "csw_open", n);
  fill(m.policy_violation, messages, "policy_violation", n);
  fill(m.us_marketing_paused, messages, "us_marketing_paused", n);
  fill(m.charge_reason, messages, "charge_reason", n);
  const std::size_t k = length_of(conversations, "start");
  auto& c = out.conversations;
  fill(c.business, conversations, "business", k);
  fill(c.user, conversations, "user", k);
  fill(c.waba, conversations, "waba", k);
  fill(c.era, conversations, "era", k);
  fill(c.category, conversations, "category", k);
  fill(c.pricing_type, conversations, "pricing_type", k);
  fill(c.start, conversations, "start", k);
  fill(c.end, conversations, "end", k);
  fill(c.n_messages, conversations, "n_messages", k);
  fill(c.opened_by, conversations, "opened_by", k);
  return out;
}

void apply_allowances(waconv::Classification& result, const Column<std::int32_t>& business,
                      const Column<std::int32_t>& waba, const Column<std::int64_t>& timestamp,
                      const Column<std::int64_t>& delivered_at, const std::vector<std::string>& time_zones,
                      const std::optional<py::tuple>& message_id, std::int64_t free_tier_conversations,
                      bool direct_billing, std::int64_t service_free_allowance, int threads) {
  const std::size_t n = result.messages.era.size();
  waconv::EventColumns events;
  events.size = n;
  events.business = data_of<std::int32_t>(business, n, "business");
  events.waba = data_of<std::int32_t>(waba, n, "waba");
  events.timestamp = data_of<std::int64_t>(timestamp, n, "timestamp");
  events.delivered_at = data_of<std::int64_t>(delivered_at, n, "delivered_at");
  events.waba_count = static_cast<std::int32_t>(time_zones.size());
  std::optional<Column<std::uint8_t>> id_validity;
  std::optional<ArrowStrings> ids;
  if (message_id) {  // the same (offsets, data, validity, validity offset, size) as classify takes
    const py::tuple& buffers = *message_id;
    if (buffers.size() != 5) {
      throw py::value_error("message_id: expected (offsets, data, validity, validity_offset, size)");
    }
    if (buffers[4].cast<std::int64_t>() != static_cast<std::int64_t>(n)) {
      throw py::value_error("message_id must have one entry per gathered row");
    }
    if (!buffers[2].is_none()) id_validity = buffers[2].cast<Column<std::uint8_t>>();
    ids.emplace(buffers[0].cast<py::array>(), py::reinterpret_borrow<py::object>(buffers[1]), id_validity, buffers[3].cast<std::int64_t>(),
                buffers[4].cast<std::int64_t>());
    events.message_id = &ids->column();
  }
  waconv::check_gathered(events, result);
  const waconv::AllowanceOptions options{free_tier_conversations, direct_billing, service_free_allowance, threads};
  const auto clocks = make_clocks(time_zones);
  py::gil_scoped_release release;
  waconv::apply_allowances(events, clocks, options, result);
}

}  // namespace

void register_phase_two(py::module_& m) {
  m.def("gathered_classification", &gathered, py::arg("messages"), py::arg("conversations"),
        "A Classification from phase 1 verdict columns gathered from many partitions (copied); "
        "conversation ids are positions in `conversations`, opened_by positions in `messages`.");
  m.def("apply_allowances", &apply_allowances, py::arg("result"), py::arg("business"), py::arg("waba"),
        py::arg("timestamp"), py::arg("delivered_at"), py::arg("time_zones"), py::kw_only(),
        py::arg("message_id") = py::none(), py::arg("free_tier_conversations") = 1000,
        py::arg("direct_billing") = false, py::arg("service_free_allowance") = 1000, py::arg("threads") = 0,
        "Phase 2's monthly allowances (free tier, service allowance) on a gathered Classification, "
        "in place; rows in input order, as their ties go by it.");
}
