#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "waconv/allowances.hpp"
#include "waconv/classify.hpp"

namespace py = pybind11;
using waconv::bindings::ArrowStrings;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::make_clocks;

namespace {

// Views of the C++ result's columns: each array keeps the Classification (its owner)
// alive, and nothing is copied or moved. Pricing fills some columns in place afterwards,
// which the views then show; Python reads those only once pricing has returned.
template <class T, class Allocator>
py::array view(const std::vector<T, Allocator>& column, const py::object& owner) {
  return py::array_t<T>({column.size()}, {sizeof(T)}, column.data(), owner);
}

template <class Allocator>
py::array view_bool(const std::vector<std::uint8_t, Allocator>& column, const py::object& owner) {
  return py::array(py::dtype("bool"), {column.size()}, {sizeof(std::uint8_t)}, column.data(), owner);
}

py::dict export_classification(const py::object& owner) {
  const auto& r = owner.cast<const waconv::Classification&>();
  py::dict messages;
  messages["era"] = view(r.messages.era, owner);
  messages["pricing_model"] = view(r.messages.pricing_model, owner);
  messages["pricing_category"] = view(r.messages.pricing_category, owner);
  messages["pricing_type"] = view(r.messages.pricing_type, owner);
  messages["conversation_id"] = view(r.messages.conversation_id, owner);
  messages["opens_conversation"] = view_bool(r.messages.opens_conversation, owner);
  messages["csw_open"] = view_bool(r.messages.csw_open, owner);
  messages["policy_violation"] = view_bool(r.messages.policy_violation, owner);
  messages["us_marketing_paused"] = view_bool(r.messages.us_marketing_paused, owner);
  messages["charge_reason"] = view(r.messages.charge_reason, owner);

  const auto& c = r.conversations;
  py::dict conversations;
  conversations["business"] = view(c.business, owner);
  conversations["user"] = view(c.user, owner);
  conversations["waba"] = view(c.waba, owner);
  conversations["era"] = view(c.era, owner);
  conversations["category"] = view(c.category, owner);
  conversations["pricing_type"] = view(c.pricing_type, owner);
  conversations["start"] = view(c.start, owner);
  conversations["end"] = view(c.end, owner);
  conversations["n_messages"] = view(c.n_messages, owner);
  conversations["opened_by"] = view(c.opened_by, owner);

  const auto& w = r.windows;
  py::dict windows;
  windows["kind"] = view(w.kind, owner);
  windows["business"] = view(w.business, owner);
  windows["user"] = view(w.user, owner);
  windows["start"] = view(w.start, owner);
  windows["end"] = view(w.end, owner);

  py::dict out;
  out["messages"] = messages;
  out["conversations"] = conversations;
  out["windows"] = windows;
  out["scan_seconds"] = r.scan_seconds;
  py::dict stages;
  for (const auto& [name, seconds] : r.stage_seconds) stages[name] = seconds;
  out["scan_stages"] = stages;
  return out;
}

waconv::Classification classify(const Column<std::int32_t>& business, const Column<std::int32_t>& user,
                  const Column<std::int32_t>& waba, const Column<std::int64_t>& timestamp,
                  const Column<std::int64_t>& delivered_at, const Column<std::int8_t>& direction,
                  const Column<std::int8_t>& template_category, const std::optional<Column<std::uint8_t>>& referral,
                  const std::optional<Column<std::uint8_t>>& duplicate,
                  const std::optional<Column<std::uint8_t>>& refreshes_csw,
                  const std::optional<Column<std::uint8_t>>& us_user,
                  const std::optional<Column<std::int8_t>>& us_override, std::int32_t user_count,
                  const std::vector<std::string>& time_zones, const std::optional<py::tuple>& message_id,
                  const std::optional<std::string>& forced_era, bool anchor_sent,
                  bool failed_freeform_opens_conversation, std::int64_t free_tier_conversations,
                  bool direct_billing, std::int64_t service_free_allowance, int threads,
                  const std::vector<std::tuple<std::int32_t, std::int32_t, std::int64_t>>& free_tier_used,
                  const std::vector<std::tuple<std::int32_t, std::int32_t, std::int64_t>>& service_used) {
  const auto n = static_cast<std::size_t>(timestamp.shape(0));
  waconv::EventColumns events;
  events.size = n;
  events.business = data_of<std::int32_t>(business, n, "business");
  events.user = data_of<std::int32_t>(user, n, "user");
  events.waba = data_of<std::int32_t>(waba, n, "waba");
  events.timestamp = data_of<std::int64_t>(timestamp, n, "timestamp");
  events.delivered_at = data_of<std::int64_t>(delivered_at, n, "delivered_at");
  events.direction = data_of<std::int8_t>(direction, n, "direction");
  events.template_category = data_of<std::int8_t>(template_category, n, "template_category");
  events.referral = data_of<std::uint8_t>(referral, n, "referral");
  events.duplicate = data_of<std::uint8_t>(duplicate, n, "duplicate");
  events.refreshes_csw = data_of<std::uint8_t>(refreshes_csw, n, "csw_refreshing");
  if (user_count < 0) throw py::value_error("user_count must not be negative");
  events.us_user = data_of<std::uint8_t>(us_user, static_cast<std::size_t>(user_count), "us_user", "user");
  events.us_override = data_of<std::int8_t>(us_override, n, "us_override");
  events.user_count = user_count;
  events.waba_count = static_cast<std::int32_t>(time_zones.size());
  // The ids as Arrow buffers (offsets, data, validity, validity offset, size), read in
  // place: only rows whose order ties ever look at them.
  std::optional<Column<std::uint8_t>> id_validity;
  std::optional<ArrowStrings> ids;
  if (message_id) {
    const py::tuple& buffers = *message_id;
    if (buffers.size() != 5) {
      throw py::value_error("message_id: expected (offsets, data, validity, validity_offset, size)");
    }
    if (!buffers[2].is_none()) id_validity = buffers[2].cast<Column<std::uint8_t>>();
    ids.emplace(buffers[0].cast<py::array>(), py::reinterpret_borrow<py::object>(buffers[1]), id_validity, buffers[3].cast<std::int64_t>(),
                buffers[4].cast<std::int64_t>());
    events.message_id = &ids->column();
  }

  waconv::ClassifyOptions options;
  if (forced_era) {
    options.forced_era = waconv::parse_era(*forced_era);
    if (!options.forced_era) throw waconv::InputError("rules", -1, "unknown era '" + *forced_era + "'");
  }
  options.anchor_sent = anchor_sent;
  options.failed_freeform_opens_conversation = failed_freeform_opens_conversation;
  options.threads = threads;
  waconv::AllowanceOptions allowances{free_tier_conversations, direct_billing, service_free_allowance, threads};
  for (const auto& [account, month, used] : free_tier_used) allowances.free_tier_used.push_back({account, month, used});
  for (const auto& [account, month, used] : service_used) allowances.service_used.push_back({account, month, used});

  const auto clocks = make_clocks(time_zones);
  waconv::Classification result;
  {
    py::gil_scoped_release release;
    result = waconv::classify(events, clocks, options);
    waconv::apply_allowances(events, clocks, allowances, result);
  }
  return result;
}

}  // namespace

void register_classify(py::module_& m) {
  py::class_<waconv::Classification>(m, "Classification",
                                     "Phase 1 result held in C++ until priced and exported.")
      .def_property_readonly("size", [](const waconv::Classification& c) { return c.messages.era.size(); })
      .def("to_numpy", &export_classification,
           "The columns as NumPy views (no copy); they keep this object alive, and show the "
           "categories pricing rewrites in place.");
  m.def("classify", &classify, py::arg("business"), py::arg("user"), py::arg("waba"), py::arg("timestamp"),
        py::arg("delivered_at"), py::arg("direction"), py::arg("template_category"), py::arg("referral"),
        py::arg("duplicate"), py::arg("refreshes_csw"), py::arg("us_user"), py::arg("us_override"),
        py::arg("user_count"),
        py::arg("time_zones"),
        py::kw_only(), py::arg("message_id") = py::none(), py::arg("forced_era") = py::none(),
        py::arg("anchor_sent") = false, py::arg("failed_freeform_opens_conversation") = false,
        py::arg("free_tier_conversations") = 1000, py::arg("direct_billing") = false,
        py::arg("service_free_allowance") = 1000, py::arg("threads") = 0,
        py::arg("free_tier_used") = std::vector<std::tuple<std::int32_t, std::int32_t, std::int64_t>>{},
        py::arg("service_used") = std::vector<std::tuple<std::int32_t, std::int32_t, std::int64_t>>{},
        "Phase 1 and the monthly allowances on canonical columns (codes and int64 ns). free_tier_used / "
        "service_used: (WABA or business code, local month index, units) earlier calls already granted.");
}
