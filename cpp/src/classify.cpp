#include "waconv/classify.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "pair_scan.hpp"
#include "parallel.hpp"

namespace waconv {

void MessageVerdicts::resize(std::size_t n) {
  // No fill: classify writes every field of every row.
  era.resize(n);
  pricing_model.resize(n);
  pricing_category.resize(n);
  pricing_type.resize(n);
  conversation_id.resize(n);
  opens_conversation.resize(n);
  csw_open.resize(n);
  policy_violation.resize(n);
  us_marketing_paused.resize(n);
  charge_reason.resize(n);
}

void ConversationTable::resize(std::size_t n) {
  // No fill: the join writes every field of every conversation.
  business.resize(n);
  user.resize(n);
  waba.resize(n);
  era.resize(n);
  category.resize(n);
  pricing_type.resize(n);
  start.resize(n);
  end.resize(n);
  n_messages.resize(n);
  opened_by.resize(n);
}

void WindowTable::resize(std::size_t n) {
  kind.resize(n);
  business.resize(n);
  user.resize(n);
  start.resize(n);
  end.resize(n);
}

Era row_era(const EventColumns& events, std::size_t row, const std::vector<AccountClock>& clocks,
            const ClassifyOptions& options) {
  if (options.forced_era) return *options.forced_era;
  return era_at(events.effective_time(row), clocks[static_cast<std::size_t>(events.waba[row])].dates);
}

namespace {

using detail::ConversationRecord;
using detail::ScanRecord;
using detail::ShardTables;
using detail::Verdict;
using detail::WindowRecord;

using detail::parallel_chunks;

std::uint8_t flags_of(const EventColumns& e, std::size_t i) {
  auto flags = static_cast<std::uint8_t>(e.template_category[i]);
  if (!e.is_inbound(i) && e.is_delivered(i)) flags |= ScanRecord::kDelivered;
  if (e.is_referral(i)) flags |= ScanRecord::kReferral;
  if (e.refreshes(i)) flags |= ScanRecord::kRefreshesCsw;
  if (e.is_us_number(i)) flags |= ScanRecord::kUsNumber;
  return flags;
}

// Groups non-duplicate rows by user in O(n), gathering every field the rules read into one
// record; pairs are then contiguous after a small sort inside each user's group. Placing
// rows straight at their user's slot would scatter them over 800K far-apart places (a
// cache miss per row). Instead rows first go to blocks of 256 users, a few thousand write
// streams that stay in cache, and each block, small enough for the L2 cache, is then
// counting-sorted by user in place. Both passes keep input order within a user, and each
// thread counts and places its own slice of rows. User u owns records
// [bounds[u], bounds[u+1]).
void group_by_user(const EventColumns& e, std::size_t threads, RowBuffer<ScanRecord>& records,
                   std::vector<std::uint32_t>& bounds) {
  constexpr unsigned kBlockBits = 8;  // 256 users per block: a user's place in it fits a byte
  const auto users = static_cast<std::size_t>(e.user_count);
  const std::size_t blocks = (users >> kBlockBits) + 1;
  std::vector<std::vector<std::uint32_t>> counts(threads);
  // The passes screen rows as they read them (validate() then names the first bad row):
  // a separate check would read every column once more. User codes are checked first,
  // since they index the counts.
  std::vector<std::uint8_t> chunk_invalid(threads, 0);
  const auto throw_if_invalid = [&] {
    if (std::find(chunk_invalid.begin(), chunk_invalid.end(), 1) != chunk_invalid.end()) validate(e);
  };
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    auto& mine = counts[chunk];
    mine.assign(blocks, 0);
    bool invalid = false;
    for (std::size_t i = first; i < last; ++i) {
      const std::int32_t user = e.user[i];
      const bool user_valid = (user >= 0) & (user < e.user_count);
      invalid |= !user_valid;
      if (user_valid & !e.is_duplicate(i)) ++mine[static_cast<std::size_t>(user) >> kBlockBits];
    }
    chunk_invalid[chunk] = invalid;
  });
  throw_if_invalid();
  // Turn the counts into each thread's first free slot per block.
  std::vector<std::uint32_t> block_begin(blocks + 1, 0);
  std::uint32_t next = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    block_begin[b] = next;
    for (auto& mine : counts) {
      const std::uint32_t n = mine[b];
      mine[b] = next;
      next += n;
    }
  }
  block_begin[blocks] = next;
  records.resize(next);
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last, std::size_t chunk) {
    std::uint32_t* const cursor = counts[chunk].data();
    bool valid = true;
    for (std::size_t i = first; i < last; ++i) {
      valid &= row_is_valid(e, i);
      if (e.is_duplicate(i)) continue;
      const auto user = static_cast<std::size_t>(e.user[i]);
      ScanRecord& r = records[cursor[user >> kBlockBits]++];
      r.key = 2 * e.effective_time(i) + (e.is_inbound(i) ? 0 : 1);
      r.sent = e.timestamp[i];
      r.row = static_cast<std::uint32_t>(i);
      r.business = e.business[i];
      r.waba = e.waba[i];
      r.flags = flags_of(e, i);
      r.user_in_block = static_cast<std::uint8_t>(user & 0xff);
    }
    chunk_invalid[chunk] = !valid;
  });
  throw_if_invalid();
  bounds.assign(users + 1, next);
  parallel_chunks(blocks, threads, [&](std::size_t first_block, std::size_t last_block) {
    std::vector<ScanRecord> block;
    for (std::size_t b = first_block; b < last_block; ++b) {
      ScanRecord* const begin = records.data() + block_begin[b];
      block.assign(begin, records.data() + block_begin[b + 1]);
      std::array<std::uint32_t, 257> start{};
      for (const ScanRecord& r : block) ++start[r.user_in_block + 1u];
      for (std::size_t k = 0; k < 256; ++k) start[k + 1] += start[k];
      for (std::size_t k = 0; k < 256 && (b << kBlockBits) + k < users; ++k) {
        bounds[(b << kBlockBits) + k] = block_begin[b] + start[k];
      }
      for (const ScanRecord& r : block) begin[start[r.user_in_block]++] = r;  // stable
    }
  });
}

// Rows in record order sort by (business, key, row); the group of one user mostly arrives
// already in that order (exports are sorted by time), so insertion sort is near-linear there.
void sort_group(ScanRecord* first, ScanRecord* last) {
  if (last - first > 64 && !std::is_sorted(first, last)) {
    std::sort(first, last);
    return;
  }
  for (ScanRecord* i = first + 1; i < last; ++i) {
    if (!(*i < *(i - 1))) continue;
    const ScanRecord moving = *i;
    ScanRecord* j = i;
    do {
      *j = *(j - 1);
      --j;
    } while (j != first && moving < *(j - 1));
    *j = moving;
  }
}

// The sort key leaves rows of a pair with equal effective times and directions in input
// order; SPEC §4 puts them in message-id order (tie_before). Such runs are rare, so only
// their ids are read: no id of any other row is touched, let alone sorted.
void order_ties_by_message_id(const EventColumns& e, ScanRecord* first, ScanRecord* last) {
  for (ScanRecord* run = first; run != last;) {
    ScanRecord* end = run + 1;
    while (end != last && end->key == run->key && end->business == run->business) ++end;
    if (end - run > 1) {
      std::sort(run, end, [&](const ScanRecord& a, const ScanRecord& b) { return tie_before(e, a.row, b.row); });
    }
    run = end;
  }
}

// Scans users [first_user, last_user): sorts each user's group, then each pair in it, and
// writes each verdict at its row.
void scan_users(const EventColumns& e, const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
                RowBuffer<ScanRecord>& records, const std::vector<std::uint32_t>& bounds, std::size_t first_user,
                std::size_t last_user, ShardTables& shard, RowBuffer<Verdict>& by_row) {
  const std::size_t rows = bounds[last_user] - bounds[first_user];
  // Typical logs hold about one conversation per 9 rows and one window per 4; reserving
  // address space (not memory) up front spares the tables most of their regrowth copies.
  shard.conversations.reserve(rows / 4);
  shard.windows.reserve(rows / 2);
  detail::PairScanner scanner(clocks, options, shard);
  std::vector<Verdict> verdicts;
  for (std::size_t u = first_user; u < last_user; ++u) {
    ScanRecord* group = records.data() + bounds[u];
    const std::size_t size = bounds[u + 1] - bounds[u];
    // The verdicts land at random rows: ask for the next user's cache lines now, so they
    // arrive while this user is scanned instead of stalling those writes one by one.
    if (u + 1 < last_user) {
      for (std::size_t k = bounds[u + 1]; k < bounds[u + 2]; ++k) __builtin_prefetch(&by_row[records[k].row], 1);
    }
    sort_group(group, group + size);
    if (e.message_id != nullptr) order_ties_by_message_id(e, group, group + size);
    verdicts.assign(size, Verdict{});
    for (std::size_t pair_begin = 0; pair_begin != size;) {
      std::size_t pair_end = pair_begin + 1;
      while (pair_end != size && group[pair_end].business == group[pair_begin].business) ++pair_end;
      const std::size_t length = pair_end - pair_begin;
      scanner.scan(static_cast<std::int32_t>(u), {group + pair_begin, length}, {verdicts.data() + pair_begin, length});
      pair_begin = pair_end;
    }
    for (std::size_t k = 0; k < size; ++k) by_row[group[k].row] = verdicts[k];
  }
}

// Copies one shard's records into the result's columns from the given positions on.
void to_columns(const ShardTables& shard, std::size_t first_conversation, std::size_t first_window,
                Classification& result) {
  ConversationTable& c = result.conversations;
  for (std::size_t i = 0; i < shard.conversations.size(); ++i) {
    const ConversationRecord& r = shard.conversations[i];
    const std::size_t at = first_conversation + i;
    c.business[at] = r.business;
    c.user[at] = r.user;
    c.waba[at] = r.waba;
    c.era[at] = r.era;
    c.category[at] = r.category;
    c.pricing_type[at] = r.pricing_type;
    c.start[at] = r.start;
    c.end[at] = r.end;
    c.n_messages[at] = r.n_messages;
    c.opened_by[at] = r.opened_by;
  }
  WindowTable& w = result.windows;
  for (std::size_t i = 0; i < shard.windows.size(); ++i) {
    const WindowRecord& r = shard.windows[i];
    const std::size_t at = first_window + i;
    w.kind[at] = r.kind;
    w.business[at] = r.business;
    w.user[at] = r.user;
    w.start[at] = r.start;
    w.end[at] = r.end;
  }
}

// Writes the verdicts to the per-row output columns, giving conversation ids the offset of
// the shard that scanned the row (shard k scanned users [first_user[k], first_user[k+1]));
// duplicates (no verdict) get their era and nulls.
void scatter(const EventColumns& e, const std::vector<AccountClock>& clocks, const ClassifyOptions& options,
             const RowBuffer<Verdict>& by_row, const std::vector<std::size_t>& first_user,
             const std::vector<std::int64_t>& shard_offset, std::size_t threads, MessageVerdicts& out) {
  // A row's offset is the sum of the steps between the shards up to its own, added as
  // arithmetic because which shard a row's user fell in is a coin toss per row.
  std::vector<std::pair<std::size_t, std::int64_t>> steps;
  for (std::size_t k = 1; k < shard_offset.size(); ++k) {
    steps.emplace_back(first_user[k], shard_offset[k] - shard_offset[k - 1]);
  }
  parallel_chunks(e.size, threads, [&](std::size_t first, std::size_t last) {
    // Local pointers: the int8 stores below may alias anything, which would otherwise
    // make the compiler reload every column's address after each store.
    std::int8_t* const era = out.era.data();
    std::int8_t* const model = out.pricing_model.data();
    std::int8_t* const category = out.pricing_category.data();
    std::int8_t* const type = out.pricing_type.data();
    std::int64_t* const conversation_id = out.conversation_id.data();
    std::uint8_t* const opens = out.opens_conversation.data();
    std::uint8_t* const csw_open = out.csw_open.data();
    std::uint8_t* const policy_violation = out.policy_violation.data();
    std::uint8_t* const us_paused = out.us_marketing_paused.data();
    std::int8_t* const reason = out.charge_reason.data();
    const Verdict* const verdicts = by_row.data();
    const std::int32_t* const user = e.user;
    // Ten output columns and the inputs are more write streams than a core tracks at once
    // (its line fill buffers): one loop over all of them measured twice as slow as two
    // loops over half each. The two run block by block, so the second reads the verdicts
    // back from cache. Duplicate rows have no verdict (by_row holds garbage there).
    constexpr std::size_t kBlock = 4096;
    for (std::size_t block = first; block < last; block += kBlock) {
      const std::size_t end = std::min(last, block + kBlock);
      for (std::size_t row = block; row < end; ++row) {
        if (e.is_duplicate(row)) {  // invisible to the rules, but still dated
          const Era row_era_code = row_era(e, row, clocks, options);
          era[row] = static_cast<std::int8_t>(row_era_code);
          model[row] = static_cast<std::int8_t>(model_of(row_era_code));
          category[row] = kNullCode;
          type[row] = kNullCode;
          conversation_id[row] = -1;
          continue;
        }
        const Verdict& v = verdicts[row];
        std::int64_t offset = 0;
        for (const auto& [from_user, step] : steps) {
          offset += static_cast<std::int64_t>(static_cast<std::size_t>(user[row]) >= from_user) * step;
        }
        era[row] = static_cast<std::int8_t>(v.era());
        model[row] = static_cast<std::int8_t>((v.flags & Verdict::kPmpModel) != 0 ? PricingModel::pmp : PricingModel::cbp);
        category[row] = v.pricing_category;
        type[row] = v.pricing_type;
        conversation_id[row] =
            v.conversation != Verdict::kNoConversation ? static_cast<std::int64_t>(v.conversation) + offset : -1;
      }
      for (std::size_t row = block; row < end; ++row) {
        const bool duplicate = e.is_duplicate(row);
        const std::uint8_t flags = duplicate ? 0 : verdicts[row].flags;
        opens[row] = (flags & Verdict::kOpens) != 0;
        csw_open[row] = (flags & Verdict::kCswOpen) != 0;
        policy_violation[row] = (flags & Verdict::kPolicyViolation) != 0;
        us_paused[row] = (flags & Verdict::kUsMarketingPaused) != 0;
        reason[row] = duplicate ? static_cast<std::int8_t>(ChargeReason::duplicate) : verdicts[row].charge_reason;
      }
    }
  });
}

}  // namespace

Classification classify(const EventColumns& events, const std::vector<AccountClock>& clocks,
                        const ClassifyOptions& options) {
  validate_columns(events);  // the rows are checked as they are grouped
  if (static_cast<std::size_t>(events.waba_count) != clocks.size()) {
    throw InputError("waba", -1, "one clock per WABA code is required");
  }
  const auto started = std::chrono::steady_clock::now();
  auto lap = started;
  std::vector<std::pair<const char*, double>> stages;
  auto stage = [&](const char* name) {
    const auto now = std::chrono::steady_clock::now();
    stages.emplace_back(name, std::chrono::duration<double>(now - lap).count());
    lap = now;
  };
  const std::size_t threads = detail::thread_count(options.threads, events.size);
  RowBuffer<ScanRecord> records;
  std::vector<std::uint32_t> bounds;
  group_by_user(events, threads, records, bounds);
  stage("group");

  // Split users into contiguous shards of about equal row counts; each shard numbers its
  // conversations from 0 and gets the sizes of the shards before it added at the end,
  // which keeps ids independent of the thread count.
  const std::size_t users = static_cast<std::size_t>(events.user_count);
  std::vector<std::size_t> split{0};
  for (std::size_t k = 1; k < threads; ++k) {
    const auto target = static_cast<std::uint32_t>(records.size() * k / threads);
    split.push_back(static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end() - 1, target) - bounds.begin()));
  }
  split.push_back(users);
  std::vector<ShardTables> shards(threads);
  RowBuffer<Verdict> by_row(events.size);
  parallel_chunks(threads, threads, [&](std::size_t k, std::size_t, std::size_t) {
    scan_users(events, clocks, options, records, bounds, split[k], split[k + 1], shards[k], by_row);
  });
  RowBuffer<ScanRecord>().swap(records);  // free before the output columns exist
  stage("pairs");

  Classification result;
  std::vector<std::int64_t> shard_offset(threads, 0);
  std::vector<std::size_t> window_offset(threads, 0);
  for (std::size_t k = 1; k < threads; ++k) {
    shard_offset[k] = shard_offset[k - 1] + static_cast<std::int64_t>(shards[k - 1].conversations.size());
    window_offset[k] = window_offset[k - 1] + shards[k - 1].windows.size();
  }
  result.conversations.resize(static_cast<std::size_t>(shard_offset.back()) + shards.back().conversations.size());
  result.windows.resize(window_offset.back() + shards.back().windows.size());
  parallel_chunks(threads, threads, [&](std::size_t k, std::size_t, std::size_t) {
    to_columns(shards[k], static_cast<std::size_t>(shard_offset[k]), window_offset[k], result);
    shards[k] = ShardTables{};  // free the records before the message columns are allocated
  });
  stage("join");
  result.messages.resize(events.size);
  scatter(events, clocks, options, by_row, split, shard_offset, threads, result.messages);
  stage("scatter");
  result.stage_seconds = std::move(stages);
  result.scan_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace waconv
