#include "webhook_lines.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "webhook_payload.hpp"

namespace waconv::detail {

namespace {

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

void PaddedBuffer::reserve(std::size_t capacity) {
  if (capacity <= capacity_ && data_) return;
  std::unique_ptr<char[]> grown(new char[capacity + simdjson::SIMDJSON_PADDING]);  // not zeroed: resize pads
  if (size_) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

void PaddedBuffer::resize(std::size_t size) {
  reserve(size);
  size_ = size;
  std::memset(data_.get() + size_, 0, simdjson::SIMDJSON_PADDING);
}

bool prepared(simdjson::dom::parser& parser, std::size_t capacity) {
  return parser.allocate(std::max<std::size_t>(capacity, 64), kMaxDepth) == simdjson::SUCCESS;
}

void read_share(std::string_view text, bool file_start, const char* readable_end, Share& share) {
  simdjson::dom::parser parser;
  if (!prepared(parser, std::min<std::size_t>(text.size(), 1 << 16))) throw std::bad_alloc();
  PayloadReader reader;
  const char* p = text.data();
  const char* const end = p + text.size();
  // After the first ~1/64 of the share (at least 1 MiB), room for all of it, with a margin.
  const std::size_t sample = std::max<std::size_t>(text.size() / 64, 1 << 20);
  bool reserved = text.size() <= sample;
  while (p < end) {
    if (!reserved && static_cast<std::size_t>(p - text.data()) >= sample) {
      reserved = true;
      share.batch.reserve(1.1 * static_cast<double>(text.size()) / static_cast<double>(p - text.data()));
    }
    const char* newline = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = newline ? newline : end;
    std::string_view line(p, static_cast<std::size_t>(stop - p));
    p = stop + 1;
    ++share.lines;
    std::string_view json = line;
    if (file_start && share.lines == 1 && json.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      json.remove_prefix(kByteOrderMark.size());
    }
    if (blank(json)) continue;  // not a payload, and no error either
    simdjson::dom::element payload;
    const bool padded = json.data() + json.size() + simdjson::SIMDJSON_PADDING <= readable_end;
    const bool readable = !parser.parse(json.data(), json.size(), !padded).get(payload) && reader.read(payload, share.batch, share.lines);
    if (!readable) {  // with its newline, as Python's file iteration yields it (error positions count it)
      share.fallback_lines.push_back(share.lines);
      share.fallback_text.push(std::string_view(line.data(), line.size() + (newline != nullptr)));
    }
  }
}


WebhookRead joined(std::vector<Share>&& shares, std::int64_t bytes) {
  WebhookRead out;
  out.read = true;
  out.bytes = bytes;
  for (Share& share : shares) {
    for (std::size_t i = 0; i < share.fallback_lines.size(); ++i) {
      out.fallback.lines.push_back(out.lines + share.fallback_lines[i]);
      out.fallback.text.push(share.fallback_text.at(i));
    }
    for (std::int64_t& line : share.batch.statuses.line) line += out.lines;
    for (std::int64_t& line : share.batch.messages.line) line += out.lines;
    out.lines += share.lines;
    out.batches.push_back(std::move(share.batch));
  }
  return out;
}

}  // namespace waconv::detail
