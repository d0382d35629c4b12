#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "waconv/allowances.hpp"
#include "waconv/classify.hpp"

namespace py = pybind11;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::to_numpy;
using waconv::bindings::make_clocks;
using waconv::bindings::to_numpy_bool;

namespace {

py::dict export_windows(waconv::WindowTable&& w) {
  py::dict windows;
  windows["kind"] = to_numpy(std::move(w.kind));
  windows["business"] = to_numpy(std::move(w.business));
  windows["user"] = to_numpy(std::move(w.user));
  windows["start"] = to_numpy(std::move(w.start));
  windows["end"] = to_numpy(std::move(w.end));
  return windows;
}

py::dict export_classification(waconv::Classification&& r) {
  py::dict messages;
  messages["era"] = to_numpy(std::move(r.messages.era));
  messages["pricing_model"] = to_numpy(std::move(r.messages.pricing_model));
  messages["pricing_category"] = to_numpy(std::move(r.messages.pricing_category));
  messages["pricing_type"] = to_numpy(std::move(r.messages.pricing_type));
  messages["conversation_id"] = to_numpy(std::move(r.messages.conversation_id));
  messages["opens_conversation"] = to_numpy_bool(std::move(r.messages.opens_conversation));
  messages["csw_open"] = to_numpy_bool(std::move(r.messages.csw_open));
  messages["policy_violation"] = to_numpy_bool(std::move(r.messages.policy_violation));
  messages["us_marketing_paused"] = to_numpy_bool(std::move(r.messages.us_marketing_paused));

  auto& c = r.conversations;
  py::dict conversations;
  conversations["business"] = to_numpy(std::move(c.business));
  conversations["user"] = to_numpy(std::move(c.user));
  conversations["waba"] = to_numpy(std::move(c.waba));
  conversations["era"] = to_numpy(std::move(c.era));
  conversations["category"] = to_numpy(std::move(c.category));
  conversations["pricing_type"] = to_numpy(std::move(c.pricing_type));
  conversations["start"] = to_numpy(std::move(c.start));
  conversations["end"] = to_numpy(std::move(c.end));
  conversations["n_messages"] = to_numpy(std::move(c.n_messages));
  conversations["opened_by"] = to_numpy(std::move(c.opened_by));

  py::dict out;
  out["messages"] = messages;
  out["conversations"] = conversations;
  out["windows"] = export_windows(std::move(r.windows));
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
                  const std::optional<Column<std::uint8_t>>& us_number, std::int32_t user_count,
                  const std::vector<std::string>& time_zones, const std::optional<std::string>& forced_era,
                  bool anchor_sent, bool failed_freeform_opens_conversation, std::int64_t free_tier_conversations,
                  bool direct_billing, std::int64_t service_free_allowance, int threads) {
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
  events.us_number = data_of<std::uint8_t>(us_number, n, "us_number");
  events.user_count = user_count;
  events.waba_count = static_cast<std::int32_t>(time_zones.size());

  waconv::ClassifyOptions options;
  if (forced_era) {
    options.forced_era = waconv::parse_era(*forced_era);
    if (!options.forced_era) throw waconv::InputError("rules", -1, "unknown era '" + *forced_era + "'");
  }
  options.anchor_sent = anchor_sent;
  options.failed_freeform_opens_conversation = failed_freeform_opens_conversation;
  options.threads = threads;
  waconv::AllowanceOptions allowances{free_tier_conversations, direct_billing, service_free_allowance};

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
      .def("to_numpy", [](waconv::Classification& c) { return export_classification(std::move(c)); },
           "Moves the columns out as NumPy arrays (the object is empty afterwards).")
      .def("take_windows", [](waconv::Classification& c) { return export_windows(std::move(c.windows)); },
           "Moves the window columns out (pricing never reads them), leaving the table empty.");
  m.def("classify", &classify, py::arg("business"), py::arg("user"), py::arg("waba"), py::arg("timestamp"),
        py::arg("delivered_at"), py::arg("direction"), py::arg("template_category"), py::arg("referral"),
        py::arg("duplicate"), py::arg("refreshes_csw"), py::arg("us_number"), py::arg("user_count"),
        py::arg("time_zones"),
        py::kw_only(), py::arg("forced_era") = py::none(), py::arg("anchor_sent") = false,
        py::arg("failed_freeform_opens_conversation") = false, py::arg("free_tier_conversations") = 1000,
        py::arg("direct_billing") = false, py::arg("service_free_allowance") = 0, py::arg("threads") = 0,
        "Phase 1 and the monthly allowances on canonical columns (codes and int64 ns).");
}
