// Webhook files: read (and gunzipped) into one padded buffer, cut at line boundaries into
// one share per thread, each line parsed by simdjson's DOM parser (which validates the whole
// line: UTF-8, syntax, numbers, nesting) and taken apart by PayloadReader, or kept aside for
// the exact reader.
#include "waconv/webhooks.hpp"

#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "parallel.hpp"
#include "webhook_payload.hpp"

namespace waconv {

namespace {

// Levels of nesting a payload may have here; webhooks have about ten. Deeper lines are not
// refused for it: the exact reader reads them (or rejects them past its own limit).
constexpr std::size_t kMaxDepth = 64;
// Below this many bytes per thread, one thread reads it all: starting threads costs more.
constexpr std::size_t kBytesPerThread = 1 << 20;
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Bytes followed by the zeroed padding simdjson may read past the end of a document.
class PaddedBuffer {
 public:
  explicit PaddedBuffer(std::size_t capacity = 0) { reserve(capacity); }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void reserve(std::size_t capacity) {
    if (capacity <= capacity_ && data_) return;
    std::unique_ptr<char[]> grown(new char[capacity + simdjson::SIMDJSON_PADDING]);  // not zeroed: resize pads
    if (size_) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  void resize(std::size_t size) {
    reserve(size);
    size_ = size;
    std::memset(data_.get() + size_, 0, simdjson::SIMDJSON_PADDING);
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// A parser for documents of about `capacity` bytes (it grows for longer ones) that refuses
// nesting deeper than kMaxDepth.
bool prepared(simdjson::dom::parser& parser, std::size_t capacity) {
  return parser.allocate(std::max<std::size_t>(capacity, 64), kMaxDepth) == simdjson::SUCCESS;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

struct Share {
  WebhookBatch batch;
  std::vector<std::int64_t> fallback_lines;  // local line numbers (1-based within the share)
  std::vector<std::string_view> fallback_text;
  std::int64_t lines = 0;
};

// The lines of [begin, end) (whole lines; padding readable after end).
void read_share(std::string_view text, bool file_start, Share& share) {
  simdjson::dom::parser parser;
  if (!prepared(parser, std::min<std::size_t>(text.size(), 1 << 16))) throw std::bad_alloc();
  detail::PayloadReader reader;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
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
    const bool readable = !parser.parse(json.data(), json.size(), false).get(payload) && reader.read(payload, share.batch);
    if (!readable) {  // with its newline, as Python's file iteration yields it (error positions count it)
      share.fallback_lines.push_back(share.lines);
      share.fallback_text.push_back(std::string_view(line.data(), line.size() + (newline != nullptr)));
    }
  }
}

WebhookRead read_lines(const PaddedBuffer& buffer, int threads) {
  const std::string_view text = buffer.view();
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  std::size_t count = threads > 0 ? static_cast<std::size_t>(threads)
                                  : std::min(cores, std::max<std::size_t>(1, text.size() / kBytesPerThread));
  count = std::clamp<std::size_t>(count, 1, std::max<std::size_t>(1, text.size()));
  // Share k starts after the first newline at or past k/count of the text.
  std::vector<std::size_t> starts(count + 1, text.size());
  starts[0] = 0;
  for (std::size_t k = 1; k < count; ++k) {
    const std::size_t from = std::max(starts[k - 1], text.size() * k / count);
    const std::size_t newline = from == 0 ? 0 : text.find('\n', from - 1);
    starts[k] = newline == std::string_view::npos ? text.size() : newline + 1;
  }
  std::vector<Share> shares(count);
  detail::parallel_chunks(count, count, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first; k < last; ++k) {
      read_share(text.substr(starts[k], starts[k + 1] - starts[k]), k == 0, shares[k]);
    }
  });
  WebhookRead out;
  out.read = true;
  out.bytes = static_cast<std::int64_t>(text.size());
  for (Share& share : shares) {
    for (std::size_t i = 0; i < share.fallback_lines.size(); ++i) {
      out.fallback.lines.push_back(out.lines + share.fallback_lines[i]);
      out.fallback.text.push(share.fallback_text[i]);
    }
    out.lines += share.lines;
    out.batches.push_back(std::move(share.batch));
  }
  return out;
}

WebhookRead not_read(std::string reason) {
  WebhookRead out;
  out.reason = std::move(reason);
  return out;
}

WebhookRead read_document(const PaddedBuffer& buffer) {
  std::string_view text = buffer.view();
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) text.remove_prefix(kByteOrderMark.size());
  simdjson::dom::parser parser;
  if (!prepared(parser, text.size())) throw std::bad_alloc();
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), false).get(root)) return not_read("not one JSON document");
  WebhookRead out;
  out.bytes = static_cast<std::int64_t>(buffer.size());
  out.batches.emplace_back();
  detail::PayloadReader reader;
  if (root.type() == simdjson::dom::element_type::ARRAY) {
    simdjson::dom::array payloads;
    if (root.get_array().get(payloads)) return not_read("not an array");
    for (const simdjson::dom::element payload : payloads) {
      if (!reader.read(payload, out.batches.back())) return not_read("an element the exact reader must read");
    }
  } else if (!reader.read(root, out.batches.back())) {
    return not_read("a payload the exact reader must read");
  }
  out.read = true;
  return out;
}

// The whole file into `buffer`; false if it cannot be read (the exact reader reports it).
bool read_plain(const std::string& path, PaddedBuffer& buffer) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return false;
  if (std::fseek(file.get(), 0, SEEK_END) != 0) return false;
  const long size = std::ftell(file.get());
  if (size < 0 || std::fseek(file.get(), 0, SEEK_SET) != 0) return false;
  buffer.resize(static_cast<std::size_t>(size));
  return std::fread(buffer.data(), 1, buffer.size(), file.get()) == buffer.size() && std::fgetc(file.get()) == EOF;
}

// Inflates a gzip file (one member or several in a row) into `buffer`. false: corrupt,
// truncated or followed by anything but another member (the exact reader names the file).
bool read_gzip(const std::string& path, PaddedBuffer& buffer) {
  PaddedBuffer packed;
  if (!read_plain(path, packed) || packed.size() == 0) return false;
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return false;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, &inflateEnd);
  stream.next_in = reinterpret_cast<Bytef*>(packed.data());
  buffer.resize(0);
  buffer.reserve(std::max<std::size_t>(packed.size() * 4, 1 << 16));
  std::size_t written = 0;
  constexpr std::size_t kStep = std::numeric_limits<uInt>::max() / 2;
  std::size_t consumed = 0;
  for (;;) {
    if (written == buffer.capacity()) {
      buffer.resize(written);
      buffer.reserve(buffer.capacity() * 2);
    }
    stream.next_in = reinterpret_cast<Bytef*>(packed.data() + consumed);
    stream.avail_in = static_cast<uInt>(std::min(packed.size() - consumed, kStep));
    stream.next_out = reinterpret_cast<Bytef*>(buffer.data() + written);
    stream.avail_out = static_cast<uInt>(std::min(buffer.capacity() - written, kStep));
    const uInt in_before = stream.avail_in, out_before = stream.avail_out;
    const int status = inflate(&stream, Z_NO_FLUSH);
    consumed += in_before - stream.avail_in;
    written += out_before - stream.avail_out;
    if (status == Z_STREAM_END) {
      if (consumed == packed.size()) break;
      const auto* next = reinterpret_cast<const unsigned char*>(packed.data() + consumed);
      if (packed.size() - consumed < 2 || next[0] != 0x1f || next[1] != 0x8b) return false;
      if (inflateReset(&stream) != Z_OK) return false;
      continue;
    }
    if (status != Z_OK) return false;  // Z_BUF_ERROR with no input left: truncated
    if (stream.avail_in == 0 && consumed == packed.size() && stream.avail_out != 0) return false;
  }
  buffer.resize(written);
  return true;
}

}  // namespace

void TextColumn::push(std::string_view value) {
  if (data.size() + value.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("webhooks: a text column of one thread's share exceeds 2 GiB");
  }
  data.append(value);
  offsets.push_back(static_cast<std::int32_t>(data.size()));
  valid.push_back(1);
}

void TextColumn::push_null() {
  offsets.push_back(static_cast<std::int32_t>(data.size()));
  valid.push_back(0);
}

WebhookRead read_webhook_lines(std::string_view text, int threads) {
  PaddedBuffer buffer;
  buffer.resize(text.size());
  if (!text.empty()) std::memcpy(buffer.data(), text.data(), text.size());
  return read_lines(buffer, threads);
}

WebhookRead read_webhook_document(std::string_view text) {
  PaddedBuffer buffer;
  buffer.resize(text.size());
  if (!text.empty()) std::memcpy(buffer.data(), text.data(), text.size());
  return read_document(buffer);
}

WebhookRead read_webhook_file(const std::string& path, bool json_lines, bool gzipped, int threads) {
  PaddedBuffer buffer;
  if (gzipped ? !read_gzip(path, buffer) : !read_plain(path, buffer)) {
    return not_read(gzipped ? "not a readable gzip file" : "not a readable file");
  }
  return json_lines ? read_lines(buffer, threads) : read_document(buffer);
}

}  // namespace waconv
