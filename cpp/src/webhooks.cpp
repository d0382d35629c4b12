// Webhook files: mapped (or gunzipped into one padded buffer), cut at line boundaries into
// one share per thread, each line parsed by simdjson's DOM parser (which validates the whole
// line: UTF-8, syntax, numbers, nesting) and taken apart by PayloadReader, or kept aside for
// the exact reader.
#include "waconv/webhooks.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
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

// The lines of `text` (whole lines). simdjson may read SIMDJSON_PADDING bytes past a line:
// lines that close to `readable_end` are parsed from a padded copy.
void read_share(std::string_view text, bool file_start, const char* readable_end, Share& share) {
  simdjson::dom::parser parser;
  if (!prepared(parser, std::min<std::size_t>(text.size(), 1 << 16))) throw std::bad_alloc();
  detail::PayloadReader reader;
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
    const bool readable = !parser.parse(json.data(), json.size(), !padded).get(payload) && reader.read(payload, share.batch);
    if (!readable) {  // with its newline, as Python's file iteration yields it (error positions count it)
      share.fallback_lines.push_back(share.lines);
      share.fallback_text.push_back(std::string_view(line.data(), line.size() + (newline != nullptr)));
    }
  }
}

// `padded`: SIMDJSON_PADDING bytes after the text are readable.
WebhookRead read_lines(std::string_view text, bool padded, int threads) {
  const char* readable_end = text.data() + text.size() + (padded ? simdjson::SIMDJSON_PADDING : 0);
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
      read_share(text.substr(starts[k], starts[k + 1] - starts[k]), k == 0, readable_end, shares[k]);
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

WebhookRead read_document(std::string_view text, bool padded) {
  const std::size_t bytes = text.size();
  if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) text.remove_prefix(kByteOrderMark.size());
  simdjson::dom::parser parser;
  if (!prepared(parser, text.size())) throw std::bad_alloc();
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), !padded).get(root)) return not_read("not one JSON document");
  WebhookRead out;
  out.bytes = static_cast<std::int64_t>(bytes);
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

// A file mapped read-only (the page cache itself, no copy); empty for an empty file.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
      size_ = static_cast<std::size_t>(info.st_size);
      ok_ = true;
      if (size_ > 0) {
        void* mapped = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (mapped == MAP_FAILED) {
          ok_ = false;
          size_ = 0;
        } else {
          data_ = static_cast<const char*>(mapped);
          ::madvise(mapped, size_, MADV_SEQUENTIAL);
        }
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool ok() const { return ok_; }
  std::string_view view() const { return {data_ == nullptr ? "" : data_, size_}; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  bool ok_ = false;
};

// Inflates a gzip file (one member or several in a row) into `buffer`. false: corrupt,
// truncated or followed by anything but another member (the exact reader names the file).
bool read_gzip(const std::string& path, PaddedBuffer& buffer) {
  const MappedFile file(path);
  const std::string_view packed = file.view();
  if (!file.ok() || packed.empty()) return false;
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return false;
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, &inflateEnd);
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
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data() + consumed));
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

void TextColumn::reserve(double factor) {
  const auto scaled = [factor](std::size_t n) { return static_cast<std::size_t>(static_cast<double>(n) * factor); };
  offsets.reserve(scaled(offsets.size()));
  data.reserve(scaled(data.size()));
  valid.reserve(scaled(valid.size()));
}

void WebhookBatch::reserve(double factor) {
  const auto scaled = [factor](auto& vector) {
    vector.reserve(static_cast<std::size_t>(static_cast<double>(vector.size()) * factor));
  };
  WebhookStatuses& s = statuses;
  scaled(s.value), scaled(s.status), scaled(s.time);
  for (TextColumn* text : {&s.message_id, &s.business, &s.waba, &s.phone, &s.bsuid, &s.conversation_id,
                           &s.conversation_origin, &s.pricing_model, &s.pricing_category, &s.pricing_type,
                           &s.cost_currency}) {
    text->reserve(factor);
  }
  s.conversation_expiration.reserve(factor), s.billable.reserve(factor), s.cost.reserve(factor);
  s.error_code.reserve(factor);
  WebhookMessages& m = messages;
  scaled(m.value), scaled(m.time), scaled(m.referral);
  for (TextColumn* text : {&m.message_id, &m.business, &m.waba, &m.phone, &m.bsuid, &m.message_type}) {
    text->reserve(factor);
  }
  scaled(contacts.value);
  for (TextColumn* text : {&contacts.bsuid, &contacts.phone, &contacts.country, &pair_bsuid, &pair_phone,
                           &display_business, &display_phone}) {
    text->reserve(factor);
  }
}

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

WebhookRead read_webhook_lines(std::string_view text, int threads) { return read_lines(text, false, threads); }

WebhookRead read_webhook_document(std::string_view text) { return read_document(text, false); }

WebhookRead read_webhook_file(const std::string& path, bool json_lines, bool gzipped, int threads) {
  if (!gzipped) {
    const MappedFile file(path);
    if (!file.ok()) return not_read("not a readable file");
    return json_lines ? read_lines(file.view(), false, threads) : read_document(file.view(), false);
  }
  PaddedBuffer buffer;
  if (!read_gzip(path, buffer)) return not_read("not a readable gzip file");
  return json_lines ? read_lines(buffer.view(), true, threads) : read_document(buffer.view(), true);
}

}  // namespace waconv
