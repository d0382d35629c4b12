#include "waconv/classify.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "pair_scan.hpp"

namespace waconv {

void MessageVerdicts::resize(std::size_t n) {
  era.assign(n, kNullCode);
  pricing_model.assign(n, kNullCode);
  pricing_category.assign(n, kNullCode);
  pricing_type.assign(n, kNullCode);
  conversation_id.assign(n, -1);
  opens_conversation.assign(n, 0);
  csw_open.assign(n, 0);
  policy_violation.assign(n, 0);
  us_marketing_paused.assign(n, 0);
}

std::int64_t ConversationTable::add(std::int32_t business_code, std::int32_t user_code, std::int32_t waba_code,
                                    Era era_code, PricingCategory category_code, PricingType type, Instant start_at,
                                    Instant end_at, std::int64_t opener_row) {
  business.push_back(business_code);
  user.push_back(user_code);
  waba.push_back(waba_code);
  era.push_back(static_cast<std::int8_t>(era_code));
  category.push_back(static_cast<std::int8_t>(category_code));
  pricing_type.push_back(static_cast<std::int8_t>(type));
  start.push_back(start_at);
  end.push_back(end_at);
  n_messages.push_back(1);
  opened_by.push_back(opener_row);
  return static_cast<std::int64_t>(start.size() - 1);
}

namespace {
template <class T>
void append_to(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}
}  // namespace

void ConversationTable::append(const ConversationTable& o) {
  append_to(business, o.business);
  append_to(user, o.user);
  append_to(waba, o.waba);
  append_to(era, o.era);
  append_to(category, o.category);
  append_to(pricing_type, o.pricing_type);
  append_to(start, o.start);
  append_to(end, o.end);
  append_to(n_messages, o.n_messages);
  append_to(opened_by, o.opened_by);
}

void WindowTable::add(WindowKind k, std::int32_t business_code, std::int32_t user_code, Instant from, Instant to) {
  kind.push_back(static_cast<std::int8_t>(k));
  business.push_back(business_code);
  user.push_back(user_code);
  start.push_back(from);
  end.push_back(to);
}

void WindowTable::append(const WindowTable& o) {
  append_to(kind, o.kind);
  append_to(business, o.business);
  append_to(user, o.user);
  append_to(start, o.start);
  append_to(end, o.end);
}

Era row_era(const EventColumns& events, std::size_t row, const std::vector<AccountClock>& clocks,
            const ClassifyOptions& options) {
  if (options.forced_era) return *options.forced_era;
  return era_at(events.effective_time(row), clocks[static_cast<std::size_t>(events.waba[row])].dates);
}

namespace {

using detail::ScanRecord;
using detail::Verdict;

// Parallel for over [0, n) in `threads` contiguous chunks.
template <class Body>
void parallel_chunks(std::size_t n, std::size_t threads, Body body) {
  if (threads <= 1) {
    body(std::size_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  for (std::size_t k = 0; k < threads; ++k) workers.emplace_back(body, n * k / threads, n * (k + 1) / threads);
  for (auto& w : workers) w.join();
}

std::uint8_t flags_of(const EventColumns& e, std::size_t i) {
  auto flags = static_cast<std::uint8_t>(e.template_category[i]);
  if (!e.is_inbound(i) && e.is_delivered(i)) flags |= ScanRecord::kDelivered;
  if (e.is_referral(i)) flags |= ScanRecord::kReferral;
  if (e.refreshes(i)) flags |= ScanRecord::kRefreshesCsw;
  if (e.is_us_number(i)) flags |= ScanRecord::kUsNumber;
  return flags;
}

// Groups non-duplicate rows by user with one counting sort (O(n)), gathering every field
// the rules read into one record; pairs are then contiguous after a small sort inside each
// user's group. Each thread counts and places its own slice of rows (per-thread
// histograms), so the two scattered passes run in parallel. User u owns records
// [bounds[u], bounds[u+1]).
void group_by_user(const EventColumns& e, std::size_t threads, std::vector<ScanRecord>& records,
                   std::vector<std::uint32_t>& bounds) {
  const auto users = static_cast<std::size_t>(e.user_count);
  std::vector<std::vector<std::uint32_t>> counts(threads);
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last) {
    auto& mine = counts[first * threads / std::max<std::size_t>(e.size, 1)];
    mine.assign(users, 0);
    for (std::size_t i = first; i < last; ++i) {
      if (!e.is_duplicate(i)) ++mine[static_cast<std::size_t>(e.user[i])];
    }
  });
  // Turn the counts into each thread's first free slot per user.
  bounds.assign(users + 1, 0);
  std::uint32_t next = 0;
  for (std::size_t u = 0; u < users; ++u) {
    bounds[u] = next;
    for (auto& mine : counts) {
      const std::uint32_t n = mine[u];
      mine[u] = next;
      next += n;
    }
  }
  bounds[users] = next;
  records.resize(next);
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last) {
    auto& cursor = counts[first * threads / std::max<std::size_t>(e.size, 1)];
    for (std::size_t i = first; i < last; ++i) {
      if (e.is_duplicate(i)) continue;
      ScanRecord& r = records[cursor[static_cast<std::size_t>(e.user[i])]++];
      r.key = 2 * e.effective_time(i) + (e.is_inbound(i) ? 0 : 1);
      r.sent = e.timestamp[i];
      r.row = static_cast<std::uint32_t>(i);
      r.business = e.business[i];
      r.waba = e.waba[i];
      r.flags = flags_of(e, i);
    }
  });
}

struct Shard {
  ConversationTable conversations;
  WindowTable windows;
};

// Scans users [first_user, last_user): sorts each user's group, then each pair in it.
void scan_users(const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
                std::vector<ScanRecord>& records, std::vector<Verdict>& verdicts,
                const std::vector<std::uint32_t>& bounds, std::size_t first_user, std::size_t last_user,
                Shard& shard) {
  detail::PairScanner scanner(clocks, options, shard.conversations, shard.windows);
  for (std::size_t u = first_user; u < last_user; ++u) {
    const std::size_t begin = bounds[u];
    const std::size_t end = bounds[u + 1];
    std::sort(records.begin() + static_cast<std::ptrdiff_t>(begin), records.begin() + static_cast<std::ptrdiff_t>(end));
    for (std::size_t pair_begin = begin; pair_begin != end;) {
      std::size_t pair_end = pair_begin + 1;
      while (pair_end != end && records[pair_end].business == records[pair_begin].business) ++pair_end;
      const std::size_t length = pair_end - pair_begin;
      scanner.scan(static_cast<std::int32_t>(u), {records.data() + pair_begin, length},
                   {verdicts.data() + pair_begin, length});
      pair_begin = pair_end;
    }
  }
}

// Writes the verdicts (in scan order) to the per-row output columns, in row order.
void scatter(const EventColumns& e, const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
             const std::vector<std::uint32_t>& position, const std::vector<Verdict>& verdicts, std::size_t threads,
             MessageVerdicts& out) {
  constexpr auto kNone = std::numeric_limits<std::uint32_t>::max();
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last) {
    for (std::size_t row = first; row < last; ++row) {
      if (position[row] == kNone) {  // a duplicate: invisible to the rules, but still dated
        const Era era = row_era(e, row, clocks, options);
        out.era[row] = static_cast<std::int8_t>(era);
        out.pricing_model[row] = static_cast<std::int8_t>(model_of(era));
        continue;
      }
      const Verdict& v = verdicts[position[row]];
      out.era[row] = v.era;
      out.pricing_model[row] = v.pricing_model;
      out.pricing_category[row] = v.pricing_category;
      out.pricing_type[row] = v.pricing_type;
      out.conversation_id[row] = v.conversation_id;
      out.opens_conversation[row] = (v.flags & Verdict::kOpens) != 0;
      out.csw_open[row] = (v.flags & Verdict::kCswOpen) != 0;
      out.policy_violation[row] = (v.flags & Verdict::kPolicyViolation) != 0;
      out.us_marketing_paused[row] = (v.flags & Verdict::kUsMarketingPaused) != 0;
    }
  });
}

}  // namespace

Classification classify(const EventColumns& events, const std::vector<AccountClock>& clocks,
                        const ClassifyOptions& options) {
  validate(events);
  if (static_cast<std::size_t>(events.waba_count) != clocks.size()) {
    throw InputError("waba", -1, "one clock per WABA code is required");
  }
  const auto started = std::chrono::steady_clock::now();
  const std::size_t hardware = options.threads > 0 ? static_cast<std::size_t>(options.threads)
                                                   : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t threads = std::clamp<std::size_t>(hardware, 1, std::max<std::size_t>(1, events.size / 100'000));
  std::vector<ScanRecord> records;
  std::vector<std::uint32_t> bounds;
  group_by_user(events, threads, records, bounds);
  std::vector<Verdict> verdicts(records.size());

  // Split users into contiguous shards of about equal row counts; each shard numbers its
  // conversations from 0 and is renumbered after the join, which keeps ids independent
  // of the thread count.
  const std::size_t users = static_cast<std::size_t>(events.user_count);
  std::vector<std::size_t> split{0};
  for (std::size_t k = 1; k < threads; ++k) {
    const auto target = static_cast<std::uint32_t>(records.size() * k / threads);
    split.push_back(static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end() - 1, target) - bounds.begin()));
  }
  split.push_back(users);
  std::vector<Shard> shards(threads);
  std::vector<std::exception_ptr> errors(threads);
  parallel_chunks(threads, threads, [&](std::size_t k, std::size_t) {
    try {
      scan_users(clocks, options, records, verdicts, bounds, split[k], split[k + 1], shards[k]);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  });
  for (auto& err : errors) {
    if (err) std::rethrow_exception(err);
  }

  Classification result;
  result.conversations = std::move(shards[0].conversations);
  result.windows = std::move(shards[0].windows);
  for (std::size_t k = 1; k < threads; ++k) {
    const auto offset = static_cast<std::int64_t>(result.conversations.size());
    for (std::size_t r = bounds[split[k]]; r < bounds[split[k + 1]]; ++r) {
      if (verdicts[r].conversation_id >= 0) verdicts[r].conversation_id += offset;
    }
    result.conversations.append(shards[k].conversations);
    result.windows.append(shards[k].windows);
  }

  std::vector<std::uint32_t> position(events.size, std::numeric_limits<std::uint32_t>::max());
  parallel_chunks(records.size(), threads, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first; k < last; ++k) position[records[k].row] = static_cast<std::uint32_t>(k);
  });
  std::vector<ScanRecord>().swap(records);  // free before the output columns exist
  result.messages.resize(events.size);
  scatter(events, clocks, options, position, verdicts, threads, result.messages);
  result.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace waconv
