// Datetime columns of the input to instants: unit scaling, range and delivery checks in one
// pass per column instead of one NumPy pass (and temporary array) per check.
#include <stdexcept>
#include <vector>

#include "parallel.hpp"
#include "waconv/events.hpp"

namespace waconv {
namespace {

// v in ns; values outside [low, high) (in units) are clamped to just outside the accepted
// range instead of scaled, so none overflows and every later range check still fails them.
Instant scaled(std::int64_t v, std::int64_t low, std::int64_t high, std::int64_t unit_ns) {
  if (v < low) return kEarliestInstant - 1;
  if (v >= high) return kLatestInstant;
  return v * unit_ns;
}

template <class Row>
InstantColumn convert(std::size_t n, std::int64_t unit_ns, int threads, Row row) {
  if (unit_ns <= 0 || kEarliestInstant % unit_ns != 0 || kLatestInstant % unit_ns != 0) {
    throw std::invalid_argument("instants_from: unit_ns must divide whole seconds");
  }
  InstantColumn out;
  out.instants.resize(n);
  const std::size_t workers = detail::thread_count(threads, n);
  std::vector<std::int64_t> out_of_range(workers, -1), before_sent(workers, -1);
  detail::parallel_chunks(n, workers, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    const std::int64_t low = kEarliestInstant / unit_ns;
    const std::int64_t high = kLatestInstant / unit_ns;
    for (std::size_t i = first; i < last; ++i) {
      row(i, low, high, out.instants[i], out_of_range[chunk], before_sent[chunk]);
    }
  });
  out.first_out_of_range = detail::first_found(out_of_range);
  out.first_before_sent = detail::first_found(before_sent);
  return out;
}

}  // namespace

InstantColumn instants_from(const std::int64_t* raw, std::size_t n, std::int64_t unit_ns, int threads) {
  return convert(n, unit_ns, threads,
                 [&](std::size_t i, std::int64_t low, std::int64_t high, Instant& out, std::int64_t& out_of_range,
                     std::int64_t&) {
                   const std::int64_t v = raw[i];
                   const bool present = v != kNoInstant;
                   if (present && (v < low || v >= high) && out_of_range < 0) {
                     out_of_range = static_cast<std::int64_t>(i);
                   }
                   out = present ? scaled(v, low, high, unit_ns) : kNoInstant;
                 });
}

InstantColumn delivery_instants_from(const std::int64_t* raw, std::size_t n, std::int64_t unit_ns,
                                     const Instant* sent, const std::int8_t* direction, int threads) {
  return convert(n, unit_ns, threads,
                 [&](std::size_t i, std::int64_t low, std::int64_t high, Instant& out, std::int64_t& out_of_range,
                     std::int64_t& before_sent) {
                   const std::int64_t v = raw[i];
                   const bool counted = direction[i] == 1 && v != kNoInstant;  // inbound values mean nothing
                   if (counted && (v < low || v >= high) && out_of_range < 0) {
                     out_of_range = static_cast<std::int64_t>(i);
                   }
                   out = counted ? scaled(v, low, high, unit_ns) : kNoInstant;
                   if (counted && out < sent[i] && before_sent < 0) before_sent = static_cast<std::int64_t>(i);
                 });
}

}  // namespace waconv
