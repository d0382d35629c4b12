// The canonical event table (SPEC §2) as non-owning column views: what every adapter
// produces and what phase 1 consumes. Strings never reach the core: business, user and
// WABA are dense integer codes assigned by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "waconv/buffers.hpp"
#include "waconv/strings.hpp"
#include "waconv/time.hpp"

namespace waconv {

struct EventColumns {
  std::size_t size = 0;
  const std::int32_t* business = nullptr;      // code of the business phone number
  const std::int32_t* user = nullptr;          // code in [0, user_count)
  const std::int32_t* waba = nullptr;          // index into the AccountClock list
  const Instant* timestamp = nullptr;          // inbound: received; outbound: sent
  const Instant* delivered_at = nullptr;       // outbound: first delivery, or kNoInstant
  const std::int8_t* direction = nullptr;      // Direction
  const std::int8_t* template_category = nullptr;  // TemplateCategory
  const std::uint8_t* referral = nullptr;      // optional: all false when null
  const std::uint8_t* duplicate = nullptr;     // optional: rows the rules must ignore
  const std::uint8_t* refreshes_csw = nullptr; // optional: all inbound rows refresh when null
  // US numbers, for the marketing pause: per user code (optional), unless the row gives
  // its own user_country (us_override, optional, per row: -1 none, 0 not the US, 1 the US).
  // Per user, because a 10M-row gather of something known per user costs a pass of its own.
  const std::uint8_t* us_user = nullptr;
  const std::int8_t* us_override = nullptr;
  // Optional: only rows whose keys tie read it (tie_before), so it stays a view of the
  // caller's strings instead of codes that would need all ids sorted.
  const StringColumn* message_id = nullptr;
  std::int32_t user_count = 0;
  std::int32_t waba_count = 0;

  bool is_inbound(std::size_t row) const { return direction[row] == 0; }
  bool is_delivered(std::size_t row) const { return delivered_at[row] != kNoInstant; }
  bool is_referral(std::size_t row) const { return referral != nullptr && referral[row] != 0; }
  bool is_duplicate(std::size_t row) const { return duplicate != nullptr && duplicate[row] != 0; }
  bool refreshes(std::size_t row) const { return refreshes_csw == nullptr || refreshes_csw[row] != 0; }
  bool is_us_number(std::size_t row) const {
    if (us_override != nullptr && us_override[row] >= 0) return us_override[row] != 0;
    return us_user != nullptr && us_user[static_cast<std::size_t>(user[row])] != 0;
  }
  // Inbound: received; delivered outbound: delivered; undelivered outbound: sent.
  Instant effective_time(std::size_t row) const {
    return is_inbound(row) || !is_delivered(row) ? timestamp[row] : delivered_at[row];
  }
};

// SPEC §4 ties: of two rows whose order keys are equal, the one with a message id comes
// first, then the lower id in byte order, then the earlier row. Reads the ids of those two
// rows only.
inline bool tie_before(const EventColumns& e, std::size_t a, std::size_t b) {
  if (e.message_id != nullptr) {
    const StringColumn& ids = *e.message_id;
    const bool has_a = ids.is_valid(a);
    if (has_a != ids.is_valid(b)) return has_a;
    if (has_a) {
      const int order = ids.with_rows([&](const auto& rows) { return rows.value(a).compare(rows.value(b)); });
      if (order != 0) return order < 0;
    }
  }
  return a < b;
}

// Bad input, naming the column, the first offending row (-1: the whole column) and why.
class InputError : public std::invalid_argument {
 public:
  InputError(std::string column, std::int64_t row, std::string reason);
  const std::string& column() const { return column_; }
  std::int64_t row() const { return row_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string column_;
  std::int64_t row_;
  std::string reason_;
};

// Checks every invariant the scan relies on; throws InputError at the first violation.
// The Python layer checks the same things with friendlier wording first; this keeps the
// core safe on its own (C++ callers, future adapters).
void validate(const EventColumns& events);

// The checks of validate() that need no pass over the rows: the row count and the
// required columns. Passes that read every row anyway screen the rows themselves with
// row_is_valid and call validate() only when one fails, to name it.
void validate_columns(const EventColumns& events);

// Earliest and latest instants accepted (2000-01-01 and 2100-01-01 UTC).
inline constexpr Instant kEarliestInstant = 946'684'800LL * kSecond;
inline constexpr Instant kLatestInstant = 4'102'444'800LL * kSecond;

// Whether row i passes every per-row check of validate(). Branch-free: the compiler can
// vectorise it, and a pass that screens rows as it goes pays no mispredictions for it.
inline bool row_is_valid(const EventColumns& e, std::size_t i) {
  const Instant t = e.timestamp[i];
  const Instant d = e.delivered_at[i];
  const bool checked_delivery = (d != kNoInstant) & (e.direction[i] != 0);
  const bool bad = (e.business[i] < 0) | (e.user[i] < 0) | (e.user[i] >= e.user_count) | (e.waba[i] < 0) |
                   (e.waba[i] >= e.waba_count) | (static_cast<std::uint8_t>(e.direction[i]) > 1) |
                   (static_cast<std::uint8_t>(e.template_category[i]) > 4) | (t < kEarliestInstant) |
                   (t >= kLatestInstant) | (checked_delivery & ((d < t) | (d >= kLatestInstant)));
  return !bad;
}

// A datetime column of the input, converted to instants in one pass.
struct InstantColumn {
  RowBuffer<Instant> instants;       // kNoInstant for NaT (and, for delivery, inbound rows)
  std::int64_t first_out_of_range = -1;  // first row outside 2000-01-01 .. 2100-01-01, -1 if none
  std::int64_t first_before_sent = -1;   // delivery only: first outbound row delivered before its timestamp
};

// raw: int64 counts of `unit_ns` nanoseconds (1 for ns, 1,000 for us, ...) with
// kNoInstant for NaT, as pandas stores datetimes. Out-of-range values are found before
// scaling (so none overflows) and clamped to just outside the range; the caller reports them.
InstantColumn instants_from(const std::int64_t* raw, std::size_t n, std::int64_t unit_ns, int threads = 0);

// The delivery column: kept only for outbound rows (direction 1), checked against the
// sent instants, which must already be in range.
InstantColumn delivery_instants_from(const std::int64_t* raw, std::size_t n, std::int64_t unit_ns,
                                     const Instant* sent, const std::int8_t* direction, int threads = 0);

}  // namespace waconv
