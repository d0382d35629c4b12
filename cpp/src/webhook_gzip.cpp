#include "webhook_gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace waconv::detail {

namespace {

// Bytes of JSON lines per block handed to a reader thread: large enough that a block costs
// one share's bookkeeping, small enough that readers start early and memory stays low.
constexpr std::size_t kBlockBytes = std::size_t{8} << 20;
constexpr std::size_t kStep = std::numeric_limits<uInt>::max() / 2;  // zlib counts in uInt

class Inflater {
 public:
  explicit Inflater(std::string_view packed) : packed_(packed) {
    ready_ = !packed.empty() && inflateInit2(&stream_, 15 + 16) == Z_OK;  // gzip only, as Python's gzip
  }
  ~Inflater() {
    if (ready_) inflateEnd(&stream_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  bool finished() const { return finished_; }

  // Inflates into [out, out + room) until it is full or the stream ends; false if corrupt.
  bool fill(char* out, std::size_t room, std::size_t& written) {
    written = 0;
    if (!ready_) return false;
    while (written < room && !finished_) {
      stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed_.data() + consumed_));
      stream_.avail_in = static_cast<uInt>(std::min(packed_.size() - consumed_, kStep));
      stream_.next_out = reinterpret_cast<Bytef*>(out + written);
      stream_.avail_out = static_cast<uInt>(std::min(room - written, kStep));
      const uInt in_before = stream_.avail_in, out_before = stream_.avail_out;
      const int status = inflate(&stream_, Z_NO_FLUSH);
      consumed_ += in_before - stream_.avail_in;
      written += out_before - stream_.avail_out;
      if (status == Z_STREAM_END) {
        if (consumed_ == packed_.size()) {
          finished_ = true;
        } else {  // another member must follow
          const auto* next = reinterpret_cast<const unsigned char*>(packed_.data() + consumed_);
          if (packed_.size() - consumed_ < 2 || next[0] != 0x1f || next[1] != 0x8b) return false;
          if (inflateReset(&stream_) != Z_OK) return false;
        }
      } else if (status != Z_OK) {
        return false;  // bad data, or Z_BUF_ERROR: no input left before the end (truncated)
      }
    }
    return true;
  }

 private:
  std::string_view packed_;
  z_stream stream_{};
  std::size_t consumed_ = 0;
  bool ready_ = false;
  bool finished_ = false;
};

}  // namespace

bool inflate_all(std::string_view packed, PaddedBuffer& out) {
  Inflater inflater(packed);
  out.resize(0);
  std::size_t size = 0;
  std::size_t capacity = std::max<std::size_t>(packed.size() * 8, 1 << 16);
  while (!inflater.finished()) {
    out.reserve(capacity);
    std::size_t written = 0;
    if (!inflater.fill(out.data() + size, capacity - size, written)) return false;
    size += written;
    out.resize(size);
    capacity *= 2;
  }
  return true;
}

bool read_gzip_lines(std::string_view packed, int threads, WebhookRead& out) {
  struct Block {
    PaddedBuffer text;
    Share share;
  };
  std::vector<std::unique_ptr<Block>> blocks;
  std::mutex mutex;
  std::condition_variable ready;
  std::size_t next = 0;
  bool done = false;
  std::exception_ptr error;

  const std::size_t count = threads > 0 ? static_cast<std::size_t>(threads) : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> readers;
  for (std::size_t k = 0; k < count; ++k) {
    readers.emplace_back([&] {
      for (;;) {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return next < blocks.size() || done; });
        if (next >= blocks.size()) return;
        const std::size_t index = next++;
        Block* block = blocks[index].get();
        lock.unlock();
        try {
          const std::string_view text = block->text.view();
          read_share(text, index == 0, text.data() + text.size() + simdjson::SIMDJSON_PADDING, block->share);
        } catch (...) {
          const std::lock_guard guard(mutex);
          if (!error) error = std::current_exception();
        }
        block->text = PaddedBuffer();  // read: its bytes are no longer needed
      }
    });
  }
  const auto hand_over = [&](std::unique_ptr<Block> block, bool last) {
    const std::lock_guard guard(mutex);
    if (block) blocks.push_back(std::move(block));
    done = done || last;
    ready.notify_all();
  };

  Inflater inflater(packed);
  bool ok = true;
  std::int64_t bytes = 0;
  PaddedBuffer carry;  // the start of a line the previous block did not finish
  carry.resize(0);
  while (ok) {
    auto block = std::make_unique<Block>();
    PaddedBuffer& text = block->text;
    std::size_t capacity = std::max(kBlockBytes, carry.size() * 2);
    text.reserve(capacity);
    std::memcpy(text.data(), carry.data(), carry.size());
    std::size_t size = carry.size();
    std::size_t cut = std::string_view::npos;  // one past the block's last newline
    for (;;) {
      std::size_t written = 0;
      if (!inflater.fill(text.data() + size, capacity - size, written)) {
        ok = false;
        break;
      }
      size += written;
      if (inflater.finished()) break;
      const std::size_t newline = std::string_view(text.data(), size).rfind('\n');
      if (newline != std::string_view::npos) {
        cut = newline + 1;
        break;
      }
      capacity *= 2;  // a line longer than the block: grow it
      text.resize(size);
      text.reserve(capacity);
    }
    if (!ok) break;
    const bool last = inflater.finished();
    if (!last) {
      PaddedBuffer rest;
      rest.resize(size - cut);
      std::memcpy(rest.data(), text.data() + cut, size - cut);
      carry = std::move(rest);
      size = cut;
    }
    text.resize(size);
    bytes += static_cast<std::int64_t>(size);
    hand_over(std::move(block), last);
    if (last) break;
  }
  hand_over(nullptr, true);
  for (std::thread& reader : readers) reader.join();
  if (error) std::rethrow_exception(error);
  if (!ok) return false;
  std::vector<Share> shares;
  shares.reserve(blocks.size());
  for (auto& block : blocks) shares.push_back(std::move(block->share));
  out = joined(std::move(shares), bytes);
  return true;
}

}  // namespace waconv::detail
