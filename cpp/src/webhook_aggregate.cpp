// Per-message aggregation of webhook rows: group by id, rank each group, reduce it.
//
// Groups are small (a message has a handful of statuses), so each is ranked by insertion
// sort in place; a rare large one (a message id repeated many times) by std::sort. Ranking
// and reducing are independent per group and run on contiguous ranges of groups, one per
// thread. The reductions keep the reference's sentinel arithmetic (int64 max for "no such
// status") so that even extreme times give the same numbers as the NumPy code.
#include "waconv/webhook_aggregate.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace waconv {
namespace {

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kInsertionSortUpTo = 16;

template <class Less>
void rank(std::int64_t* first, std::int64_t* last, Less less) {
  if (static_cast<std::size_t>(last - first) > kInsertionSortUpTo) {
    std::sort(first, last, less);
    return;
  }
  for (std::int64_t* i = first + 1; i < last; ++i) {
    const std::int64_t row = *i;
    std::int64_t* j = i;
    for (; j > first && less(row, *(j - 1)); --j) *j = *(j - 1);
    *j = row;
  }
}

// The row's place in the input, the last tie-break before the row number.
struct Places {
  const std::int64_t* order;
  std::int64_t of(std::int64_t row) const { return order != nullptr ? order[row] : row; }
};

template <class Body>
void for_each_group(std::size_t groups, std::size_t rows, int threads, Body body) {
  const std::size_t workers = detail::thread_count(threads, rows);
  detail::parallel_chunks(groups, workers, [&](std::size_t first, std::size_t last) {
    for (std::size_t g = first; g < last; ++g) body(g);
  });
}

// Ranks each group's rows by `less` in place, then calls body(group, first, last) on them.
template <class Less, class Body>
void for_each_ranked_group(RowGroups& groups, std::size_t rows, int threads, Less less, Body body) {
  std::int64_t* ranked = groups.rows.data();
  const std::int64_t* starts = groups.starts.data();
  for_each_group(groups.size(), rows, threads, [&](std::size_t g) {
    std::int64_t* first = ranked + starts[g];
    std::int64_t* last = ranked + starts[g + 1];
    rank(first, last, less);
    body(g, first, last);
  });
}

template <class Present>
std::vector<std::int64_t> first_rows_where(const std::int64_t* rows, const std::int64_t* starts, std::size_t groups,
                                           int threads, Present present) {
  std::vector<std::int64_t> out(groups);
  for_each_group(groups, static_cast<std::size_t>(starts[groups]), threads, [&](std::size_t g) {
    std::int64_t found = -1;
    for (std::int64_t k = starts[g]; k < starts[g + 1]; ++k) {
      if (present(rows[k])) {
        found = rows[k];
        break;
      }
    }
    out[g] = found;
  });
  return out;
}

}  // namespace

OutboundMessages aggregate_statuses(const StringColumn& ids, const std::int8_t* status, const std::int64_t* time,
                                    const std::int64_t* order, int threads) {
  OutboundMessages out;
  out.groups = group_rows_by_id(ids, threads);
  const std::size_t groups = out.groups.size();
  out.timestamp.resize(groups);
  out.delivered_at.resize(groups);
  out.status.resize(groups);
  const Places places{order};
  const auto more_trusted = [&](std::int64_t a, std::int64_t b) {
    const bool a_delivered = status[a] == kDelivered, b_delivered = status[b] == kDelivered;
    if (a_delivered != b_delivered) return a_delivered;
    if (time[a] != time[b]) return time[a] > time[b];
    if (status[a] != status[b]) return status[a] > status[b];
    if (places.of(a) != places.of(b)) return places.of(a) < places.of(b);
    return a < b;
  };
  for_each_ranked_group(out.groups, ids.size, threads, more_trusted, [&](std::size_t g, const std::int64_t* first,
                                                                          const std::int64_t* last) {
    std::int64_t sent = kNoTime, earliest = kNoTime, delivery = kNoTime;
    std::int8_t furthest = -1;
    bool failed = false;
    for (const std::int64_t* row = first; row < last; ++row) {
      const std::int8_t s = status[*row];
      const std::int64_t t = time[*row];
      earliest = std::min(earliest, t);
      if (s == kSent) sent = std::min(sent, t);
      if (s >= kDelivered && s <= kPlayed) {
        delivery = std::min(delivery, t);
        furthest = std::max(furthest, s);
      }
      failed |= s == kFailed;
    }
    const std::int64_t timestamp = sent != kNoTime ? sent : earliest;
    out.timestamp[g] = timestamp;
    // A delivery stamped before the send (clock skew between webhooks) counts at the send.
    out.delivered_at[g] = delivery != kNoTime ? std::max(delivery, timestamp) : -1;
    out.status[g] = furthest >= kDelivered ? furthest : static_cast<std::int8_t>(failed ? kFailed : kSent);
  });
  return out;
}

InboundMessages aggregate_messages(const StringColumn& ids, const std::int64_t* time, const std::uint8_t* referral,
                                   const std::int64_t* order, int threads) {
  InboundMessages out;
  out.groups = group_rows_by_id(ids, threads);
  const std::size_t groups = out.groups.size();
  out.timestamp.resize(groups);
  out.referral.resize(groups);
  const Places places{order};
  const auto earlier = [&](std::int64_t a, std::int64_t b) {
    if (time[a] != time[b]) return time[a] < time[b];
    if (places.of(a) != places.of(b)) return places.of(a) < places.of(b);
    return a < b;
  };
  for_each_ranked_group(out.groups, ids.size, threads, earlier, [&](std::size_t g, const std::int64_t* first,
                                                                     const std::int64_t* last) {
    std::uint8_t any_referral = 0;
    for (const std::int64_t* row = first; row < last; ++row) any_referral |= referral[*row] != 0;
    out.timestamp[g] = time[*first];
    out.referral[g] = any_referral;
  });
  return out;
}

std::vector<std::int64_t> first_present_rows(const std::int64_t* rows, const std::int64_t* starts, std::size_t groups,
                                             const std::uint8_t* validity, std::int64_t validity_offset,
                                             int threads) {
  if (validity == nullptr) {
    std::vector<std::int64_t> out(groups);
    for (std::size_t g = 0; g < groups; ++g) out[g] = starts[g] < starts[g + 1] ? rows[starts[g]] : -1;
    return out;
  }
  return first_rows_where(rows, starts, groups, threads, [&](std::int64_t row) {
    const auto bit = static_cast<std::uint64_t>(validity_offset + row);
    return ((validity[bit >> 3] >> (bit & 7)) & 1) != 0;
  });
}

std::vector<std::int64_t> first_number_rows(const std::int64_t* rows, const std::int64_t* starts, std::size_t groups,
                                            const double* values, int threads) {
  return first_rows_where(rows, starts, groups, threads, [&](std::int64_t row) { return !std::isnan(values[row]); });
}

}  // namespace waconv
