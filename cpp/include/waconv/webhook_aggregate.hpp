// One event row per message from the per-status and per-message rows a webhook dump holds:
// the rules of waconv.io.webhooks.events.aggregate_statuses / aggregate_messages (the Python
// reference, which the tests compare this with), computed per message group in C++.
//
// A row's other fields (business, ids, pricing, ...) are taken from the first row of its
// group, in the group's rank order, that carries them: the caller asks first_present_rows
// for that row, per column, and gathers the values itself (Arrow's take).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "waconv/message_groups.hpp"
#include "waconv/strings.hpp"

namespace waconv {

// Status codes of a status row, as the webhook reader writes them.
enum StatusCode : std::int8_t { kSent = 0, kDelivered = 1, kRead = 2, kPlayed = 3, kFailed = 4 };

struct OutboundMessages {
  // Per message, its statuses most trusted first: a `delivered` status, then the latest,
  // then the furthest status, then the lowest `order` (the row's place in the input), then
  // the lowest row.
  RowGroups groups;
  std::vector<std::int64_t> timestamp;     // earliest `sent`, else earliest status of any kind
  std::vector<std::int64_t> delivered_at;  // earliest delivered/read/played, at least timestamp; -1 if none
  std::vector<std::int8_t> status;         // furthest of delivered/read/played, else failed if any, else sent
};

// Statuses of outbound messages: ids (no nulls), status codes, epoch times, and `order`
// (nullptr: the row number) for every row. threads: 0 = one per core.
OutboundMessages aggregate_statuses(const StringColumn& ids, const std::int8_t* status, const std::int64_t* time,
                                    const std::int64_t* order, int threads = 0);

struct InboundMessages {
  RowGroups groups;                     // per message, its copies earliest first (then by order, then row)
  std::vector<std::int64_t> timestamp;  // the earliest copy's time
  std::vector<std::uint8_t> referral;   // 1 if any copy carries a referral
};

InboundMessages aggregate_messages(const StringColumn& ids, const std::int64_t* time, const std::uint8_t* referral,
                                   const std::int64_t* order, int threads = 0);

// Per group of `groups` (rows[starts[g] .. starts[g + 1]), rank order), the first row where
// a column has a value; -1 where none has. The value's presence is read from an Arrow
// validity bitmap at a bit offset (nullptr: every value present) ...
std::vector<std::int64_t> first_present_rows(const std::int64_t* rows, const std::int64_t* starts, std::size_t groups,
                                             const std::uint8_t* validity, std::int64_t validity_offset,
                                             int threads = 0);
// ... or is a number that is not NaN.
std::vector<std::int64_t> first_number_rows(const std::int64_t* rows, const std::int64_t* starts, std::size_t groups,
                                            const double* values, int threads = 0);

}  // namespace waconv
