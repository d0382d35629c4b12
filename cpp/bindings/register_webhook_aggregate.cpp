// Per-message aggregation of webhook rows (waconv/webhook_aggregate.hpp): ids as Arrow
// buffers, the other columns as NumPy arrays; out come each message's ranked rows
// (rows, starts) and its reduced columns, then per column the row to take a value from.
// The GIL is released while the core runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "waconv/webhook_aggregate.hpp"

namespace py = pybind11;
using waconv::bindings::ArrowStrings;
using waconv::bindings::Column;
using waconv::bindings::data_of;
using waconv::bindings::to_numpy;

namespace {

py::dict groups_dict(waconv::RowGroups&& groups) {
  py::dict out;
  out["rows"] = to_numpy(std::move(groups.rows));
  out["starts"] = to_numpy(std::move(groups.starts));
  return out;
}

py::dict aggregate_statuses(const py::array& offsets, const Column<std::uint8_t>& data,
                            const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                            std::int64_t size, const Column<std::int8_t>& status, const Column<std::int64_t>& time,
                            const std::optional<Column<std::int64_t>>& order, int threads) {
  const ArrowStrings ids(offsets, data, validity, validity_offset, size);
  const std::size_t n = ids.column().size;
  const std::int8_t* statuses = data_of<std::int8_t>(std::optional(status), n, "status");
  const std::int64_t* times = data_of<std::int64_t>(std::optional(time), n, "time");
  const std::int64_t* places = data_of<std::int64_t>(order, n, "order");
  waconv::OutboundMessages messages;
  {
    py::gil_scoped_release release;
    messages = waconv::aggregate_statuses(ids.column(), statuses, times, places, threads);
  }
  py::dict out = groups_dict(std::move(messages.groups));
  out["timestamp"] = to_numpy(std::move(messages.timestamp));
  out["delivered_at"] = to_numpy(std::move(messages.delivered_at));
  out["status"] = to_numpy(std::move(messages.status));
  return out;
}

py::dict aggregate_messages(const py::array& offsets, const Column<std::uint8_t>& data,
                            const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                            std::int64_t size, const Column<std::int64_t>& time, const Column<std::uint8_t>& referral,
                            const std::optional<Column<std::int64_t>>& order, int threads) {
  const ArrowStrings ids(offsets, data, validity, validity_offset, size);
  const std::size_t n = ids.column().size;
  const std::int64_t* times = data_of<std::int64_t>(std::optional(time), n, "time");
  const std::uint8_t* referrals = data_of<std::uint8_t>(std::optional(referral), n, "referral");
  const std::int64_t* places = data_of<std::int64_t>(order, n, "order");
  waconv::InboundMessages messages;
  {
    py::gil_scoped_release release;
    messages = waconv::aggregate_messages(ids.column(), times, referrals, places, threads);
  }
  py::dict out = groups_dict(std::move(messages.groups));
  out["timestamp"] = to_numpy(std::move(messages.timestamp));
  out["referral"] = to_numpy(std::move(messages.referral));
  return out;
}

// The core trusts rows and starts for every access: checked here against `size` rows.
std::size_t checked_groups(const Column<std::int64_t>& rows, const Column<std::int64_t>& starts, std::size_t size) {
  if (rows.ndim() != 1 || starts.ndim() != 1 || starts.size() < 1) {
    throw py::value_error("rows and starts must be one-dimensional, starts with at least one entry");
  }
  const std::int64_t* s = starts.data();
  const auto groups = static_cast<std::size_t>(starts.size() - 1);
  if (s[0] != 0 || s[groups] != rows.size()) throw py::value_error("starts must run from 0 to len(rows)");
  for (std::size_t g = 0; g < groups; ++g) {
    if (s[g + 1] < s[g]) throw py::value_error("starts must be non-decreasing");
  }
  const std::int64_t* r = rows.data();
  for (py::ssize_t k = 0; k < rows.size(); ++k) {
    if (r[k] < 0 || static_cast<std::size_t>(r[k]) >= size) {
      throw py::value_error("row " + std::to_string(r[k]) + " is outside the column's " + std::to_string(size) +
                            " values");
    }
  }
  return groups;
}

py::array first_present_rows(const Column<std::int64_t>& rows, const Column<std::int64_t>& starts,
                             const std::optional<Column<std::uint8_t>>& validity, std::int64_t validity_offset,
                             std::int64_t size, int threads) {
  if (size < 0 || validity_offset < 0) throw py::value_error("size and validity_offset must not be negative");
  const std::size_t groups = checked_groups(rows, starts, static_cast<std::size_t>(size));
  if (validity && static_cast<std::size_t>(validity->size()) * 8 < static_cast<std::size_t>(validity_offset + size)) {
    throw py::value_error("validity must be a bitmap of at least validity_offset + size bits");
  }
  const std::uint8_t* bitmap = validity ? validity->data() : nullptr;
  std::vector<std::int64_t> found;
  {
    py::gil_scoped_release release;
    found = waconv::first_present_rows(rows.data(), starts.data(), groups, bitmap, validity_offset, threads);
  }
  return to_numpy(std::move(found));
}

py::array first_number_rows(const Column<std::int64_t>& rows, const Column<std::int64_t>& starts,
                            const Column<double>& values, int threads) {
  if (values.ndim() != 1) throw py::value_error("values must be one-dimensional");
  const std::size_t groups = checked_groups(rows, starts, static_cast<std::size_t>(values.size()));
  std::vector<std::int64_t> found;
  {
    py::gil_scoped_release release;
    found = waconv::first_number_rows(rows.data(), starts.data(), groups, values.data(), threads);
  }
  return to_numpy(std::move(found));
}

}  // namespace

void register_webhook_aggregate(py::module_& m) {
  m.def("aggregate_statuses", &aggregate_statuses, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("status"), py::arg("time"), py::arg("order"),
        py::arg("threads") = 0,
        "Statuses grouped per message id (Arrow utf8/large_utf8 buffers, no nulls): a dict of rows / starts "
        "(each message's statuses, most trusted first), timestamp, delivered_at (-1: none) and status codes.");
  m.def("aggregate_messages", &aggregate_messages, py::arg("offsets"), py::arg("data"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("time"), py::arg("referral"), py::arg("order"),
        py::arg("threads") = 0,
        "Inbound message copies grouped per id: a dict of rows / starts (earliest first), timestamp, referral.");
  m.def("first_present_rows", &first_present_rows, py::arg("rows"), py::arg("starts"), py::arg("validity"),
        py::arg("validity_offset"), py::arg("size"), py::arg("threads") = 0,
        "Per group, the first of its rows whose bit is set in an Arrow validity bitmap (None: all set); -1: none.");
  m.def("first_number_rows", &first_number_rows, py::arg("rows"), py::arg("starts"), py::arg("values"),
        py::arg("threads") = 0, "Per group, the first of its rows whose float64 value is not NaN; -1: none.");
}
