// Internal: JSON lines into a WebhookBatch, one share of a file at a time, and the shares of
// a file joined into one WebhookRead (line numbers made file-wide).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "waconv/webhooks.hpp"

namespace waconv::detail {

// Levels of nesting a payload may have here; webhooks have about ten. Deeper lines are not
// refused for it: the exact reader reads them (or rejects them past its own limit).
constexpr std::size_t kMaxDepth = 64;
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Bytes followed by padding simdjson may read past the end of a document.
class PaddedBuffer {
 public:
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void reserve(std::size_t capacity);  // keeps the bytes held
  void resize(std::size_t size);       // keeps the bytes held, up to `size`
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// A parser for documents of about `capacity` bytes (it grows for longer ones) that refuses
// nesting deeper than kMaxDepth; false if it cannot allocate.
bool prepared(simdjson::dom::parser& parser, std::size_t capacity);

// What one run of consecutive lines gave: rows, and the lines left to the exact reader.
struct Share {
  WebhookBatch batch;
  std::vector<std::int64_t> fallback_lines;  // 1-based within the share
  TextColumn fallback_text;                  // each with its newline
  std::int64_t lines = 0;
};

// The lines of `text` (whole lines) into `share`. `file_start`: the text opens the file (a
// byte order mark there is skipped). simdjson may read SIMDJSON_PADDING bytes past a line:
// lines ending closer than that to `readable_end` are parsed from a padded copy.
void read_share(std::string_view text, bool file_start, const char* readable_end, Share& share);

// The shares of a file, in file order, as its WebhookRead.
WebhookRead joined(std::vector<Share>&& shares, std::int64_t bytes);

}  // namespace waconv::detail
