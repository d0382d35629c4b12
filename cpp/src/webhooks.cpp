// Webhook files: mapped and cut at line boundaries into one share per thread (gzip: inflated
// block by block, see webhook_gzip), each line parsed by simdjson's DOM parser (which
// validates the whole line: UTF-8, syntax, numbers, nesting) and taken apart by
// PayloadReader, or kept aside for the exact reader.
#include "waconv/webhooks.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "parallel.hpp"
#include "webhook_gzip.hpp"
#include "webhook_lines.hpp"
#include "webhook_payload.hpp"

namespace waconv {

namespace {

// Below this many bytes per thread, one thread reads it all: starting threads costs more.
constexpr std::size_t kBytesPerThread = 1 << 20;

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
  std::vector<detail::Share> shares(count);
  detail::parallel_chunks(count, count, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first; k < last; ++k) {
      detail::read_share(text.substr(starts[k], starts[k + 1] - starts[k]), k == 0, readable_end, shares[k]);
    }
  });
  return detail::joined(std::move(shares), static_cast<std::int64_t>(text.size()));
}

WebhookRead not_read(std::string reason) {
  WebhookRead out;
  out.reason = std::move(reason);
  return out;
}

WebhookRead read_document(std::string_view text, bool padded) {
  const std::size_t bytes = text.size();
  if (text.substr(0, detail::kByteOrderMark.size()) == detail::kByteOrderMark) text.remove_prefix(detail::kByteOrderMark.size());
  simdjson::dom::parser parser;
  if (!detail::prepared(parser, text.size())) throw std::bad_alloc();
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size(), !padded).get(root)) return not_read("not one JSON document");
  WebhookRead out;
  out.bytes = static_cast<std::int64_t>(bytes);
  out.batches.emplace_back();
  detail::PayloadReader reader;
  if (root.type() == simdjson::dom::element_type::ARRAY) {
    simdjson::dom::array payloads;
    if (root.get_array().get(payloads)) return not_read("not an array");
    std::int64_t position = 0;
    for (const simdjson::dom::element payload : payloads) {
      if (!reader.read(payload, out.batches.back(), ++position)) return not_read("an element the exact reader must read");
    }
  } else if (!reader.read(root, out.batches.back(), 1)) {
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
  scaled(s.value), scaled(s.line), scaled(s.status), scaled(s.time);
  for (TextColumn* text : {&s.message_id, &s.business, &s.waba, &s.phone, &s.bsuid, &s.conversation_id,
                           &s.conversation_origin, &s.pricing_model, &s.pricing_category, &s.pricing_type,
                           &s.cost_currency}) {
    text->reserve(factor);
  }
  s.conversation_expiration.reserve(factor), s.billable.reserve(factor), s.cost.reserve(factor);
  s.error_code.reserve(factor);
  WebhookMessages& m = messages;
  scaled(m.value), scaled(m.line), scaled(m.time), scaled(m.referral);
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
  const MappedFile file(path);
  WebhookRead read;
  if (json_lines) {
    if (!file.ok() || !detail::read_gzip_lines(file.view(), threads, read)) return not_read("not a readable gzip file");
    return read;
  }
  detail::PaddedBuffer buffer;
  if (!file.ok() || !detail::inflate_all(file.view(), buffer)) return not_read("not a readable gzip file");
  return read_document(buffer.view(), true);
}

}  // namespace waconv
