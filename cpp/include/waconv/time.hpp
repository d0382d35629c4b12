// Instants are int64 nanoseconds since the Unix epoch (UTC), the layout of NumPy's
// datetime64[ns]. Calendar questions (local midnight, month) go through a ZoneCalendar,
// which uses the date library's tz database once and then answers from tables.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace waconv {

using Instant = std::int64_t;

inline constexpr Instant kSecond = 1'000'000'000;
inline constexpr Instant kHour = 3600 * kSecond;
inline constexpr Instant kDay = 24 * kHour;
// Marks "no such time" (undelivered message, no window yet).
inline constexpr Instant kNoInstant = std::numeric_limits<Instant>::min();

struct LocalDate {
  int year;
  unsigned month;
  unsigned day;
};

// Calendar of one IANA time zone over 1990-2110 (inputs are validated to 2000-2100).
class ZoneCalendar {
 public:
  // Throws std::invalid_argument for a name the tz database does not know.
  explicit ZoneCalendar(const std::string& tz_name);

  const std::string& name() const { return name_; }

  // First instant of the local day (a midnight skipped by DST maps to the instant the day
  // starts, e.g. 01:00 local).
  Instant start_of_day(LocalDate date) const;

  // Local month containing t, as year * 12 + (month - 1).
  std::int32_t month_of(Instant t) const;
  Instant month_start(std::int32_t month_index) const;

 private:
  std::string name_;
  std::vector<Instant> month_starts_;  // month_starts_[i] starts month kFirstMonth + i
};

}  // namespace waconv
