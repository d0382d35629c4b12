// Webhook dumps read in C++ (waconv/webhooks.hpp): every column comes back as NumPy arrays
// that own the core's vectors (no copy, no Python object per row).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>

#include "arrays.hpp"
#include "waconv/webhooks.hpp"

namespace py = pybind11;
using waconv::bindings::to_numpy;

namespace {

// (offsets int32, data uint8, valid uint8): an Arrow utf8 array's buffers, validity unpacked.
py::tuple text(waconv::TextColumn&& column) {
  auto* bytes = new std::string(std::move(column.data));
  py::capsule owner(bytes, [](void* p) { delete static_cast<std::string*>(p); });
  py::array data = py::array_t<std::uint8_t>({bytes->size()}, {1}, reinterpret_cast<const std::uint8_t*>(bytes->data()),
                                             owner);
  return py::make_tuple(to_numpy(std::move(column.offsets)), data, to_numpy(std::move(column.valid)));
}

template <class T>
py::tuple optional(waconv::OptionalColumn<T>&& column) {
  return py::make_tuple(to_numpy(std::move(column.values)), to_numpy(std::move(column.valid)));
}

py::dict statuses(waconv::WebhookStatuses&& s) {
  py::dict out;
  out["change"] = to_numpy(std::move(s.value));
  out["line"] = to_numpy(std::move(s.line));
  out["message_id"] = text(std::move(s.message_id));
  out["status"] = to_numpy(std::move(s.status));
  out["time"] = to_numpy(std::move(s.time));
  out["business"] = text(std::move(s.business));
  out["waba"] = text(std::move(s.waba));
  out["phone"] = text(std::move(s.phone));
  out["bsuid"] = text(std::move(s.bsuid));
  out["meta_conversation_id"] = text(std::move(s.conversation_id));
  out["meta_conversation_origin"] = text(std::move(s.conversation_origin));
  out["meta_conversation_expiration"] = optional(std::move(s.conversation_expiration));
  out["meta_billable"] = optional(std::move(s.billable));
  out["meta_pricing_model"] = text(std::move(s.pricing_model));
  out["meta_pricing_category"] = text(std::move(s.pricing_category));
  out["meta_pricing_type"] = text(std::move(s.pricing_type));
  out["meta_cost"] = optional(std::move(s.cost));
  out["meta_cost_currency"] = text(std::move(s.cost_currency));
  out["error_code"] = optional(std::move(s.error_code));
  return out;
}

py::dict messages(waconv::WebhookMessages&& m) {
  py::dict out;
  out["change"] = to_numpy(std::move(m.value));
  out["line"] = to_numpy(std::move(m.line));
  out["message_id"] = text(std::move(m.message_id));
  out["time"] = to_numpy(std::move(m.time));
  out["referral"] = to_numpy(std::move(m.referral));
  out["business"] = text(std::move(m.business));
  out["waba"] = text(std::move(m.waba));
  out["phone"] = text(std::move(m.phone));
  out["bsuid"] = text(std::move(m.bsuid));
  out["message_type"] = text(std::move(m.message_type));
  return out;
}

py::dict batch(waconv::WebhookBatch&& b) {
  py::dict out;
  out["statuses"] = statuses(std::move(b.statuses));
  out["messages"] = messages(std::move(b.messages));
  out["contacts"] = py::make_tuple(to_numpy(std::move(b.contacts.value)), text(std::move(b.contacts.bsuid)),
                                   text(std::move(b.contacts.phone)), text(std::move(b.contacts.country)));
  out["pairs"] = py::make_tuple(text(std::move(b.pair_bsuid)), text(std::move(b.pair_phone)));
  out["displays"] = py::make_tuple(text(std::move(b.display_business)), text(std::move(b.display_phone)));
  out["changes"] = b.values;
  out["payloads"] = b.payloads;
  return out;
}

py::object to_python(waconv::WebhookRead&& read) {
  if (!read.read) return py::str(read.reason);
  py::list batches;
  for (auto& b : read.batches) batches.append(batch(std::move(b)));
  py::dict out;
  out["batches"] = batches;
  out["fallback_lines"] = to_numpy(std::move(read.fallback.lines));
  out["fallback_text"] = text(std::move(read.fallback.text));
  out["lines"] = read.lines;
  out["bytes"] = read.bytes;
  return out;
}

py::object read_webhook_file(const std::string& path, bool json_lines, bool gzipped, int threads) {
  waconv::WebhookRead read;
  {
    py::gil_scoped_release release;
    read = waconv::read_webhook_file(path, json_lines, gzipped, threads);
  }
  return to_python(std::move(read));
}

py::object read_webhook_lines(const py::bytes& data, int threads) {
  const std::string_view text = data;  // the bytes object outlives the call
  waconv::WebhookRead read;
  {
    py::gil_scoped_release release;
    read = waconv::read_webhook_lines(text, threads);
  }
  return to_python(std::move(read));
}

}  // namespace

void register_webhooks(py::module_& m) {
  m.def("read_webhook_file", &read_webhook_file, py::arg("path"), py::arg("json_lines"), py::arg("gzipped"),
        py::arg("threads") = 0,
        "A webhook file (JSON lines, or one JSON array / payload; gzip when `gzipped`) read into columns: "
        "a dict (batches: one per thread; fallback_lines / fallback_text: the lines left to the exact "
        "reader; lines; bytes), or a str saying why the file as a whole is left to the exact reader.");
  m.def("read_webhook_lines", &read_webhook_lines, py::arg("data"), py::arg("threads") = 0,
        "Like read_webhook_file for JSON lines held in a bytes object.");
}
