// KeptBytes: the serialised bytes of stream management's unacknowledged stanzas, oldest first.
//
// Stanzas are appended to blocks of 16 KiB (a longer stanza gets a block of its own) and never
// span two blocks, so each is one contiguous view. Appending copies a stanza's bytes once;
// dropping the oldest stanza frees its block when that block holds nothing more, and one
// emptied block is kept for the next ones. Under a burst the server's <a/> can lag by megabytes:
// one growing string had to move its live bytes forward whenever the acknowledged prefix
// outgrew them and copy them all whenever it grew, about two more copies of every byte, of
// buffers larger than the caches.
//
// The caller keeps each stanza's size (StreamManagement::Unacked) and hands it back in order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace pcj::detail {

class KeptBytes {
public:
    static constexpr std::size_t kBlock = 16 * 1024;

    bool empty() const {
        return blocks_.empty() || (blocks_.size() == 1 && head_ == blocks_.front().used);
    }
    // Whether a block (or the spare) is held.
    bool holds_memory() const { return !blocks_.empty() || spare_.data != nullptr; }

    void push(std::string_view bytes) {
        if (!blocks_.empty() && blocks_.back().capacity - blocks_.back().used < bytes.size()) {
            if (empty()) {
                // Nothing live, and the stanza does not fit the block left: a new one replaces
                // it, so the oldest stanza still starts in the first block.
                retire(std::move(blocks_.back()));
                blocks_.pop_back();
                head_ = 0;
            }
        }
        if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < bytes.size())
            blocks_.push_back(new_block(bytes.size()));
        Block& b = blocks_.back();
        if (!bytes.empty())
            std::memcpy(b.data.get() + b.used, bytes.data(), bytes.size());
        b.used += bytes.size();
    }

    // The oldest stanza, `size` bytes long, is gone. It starts at head_ of the first block: a
    // block is dropped (or, the only one, reset) as soon as its last stanza goes.
    void pop_front(std::size_t size) {
        head_ += size;
        if (head_ < blocks_.front().used)
            return;
        head_ = 0;
        if (blocks_.size() == 1) {
            blocks_.front().used = 0; // the only block: filled again from its start
            return;
        }
        retire(std::move(blocks_.front()));
        blocks_.erase(blocks_.begin());
    }

    // Every stanza is gone; the first block stays for the next ones (release() frees it).
    void clear() {
        while (blocks_.size() > 1) {
            retire(std::move(blocks_.back()));
            blocks_.pop_back();
        }
        if (!blocks_.empty())
            blocks_.front().used = 0;
        head_ = 0;
    }

    // Frees every block, the spare too; only when empty() (an idle connection's trim).
    void release() {
        std::vector<Block>().swap(blocks_);
        spare_ = Block{};
        head_ = 0;
    }

    // Reads the stanzas from the oldest on, given their sizes in order.
    class Reader {
    public:
        explicit Reader(const KeptBytes& kept) : kept_(kept), offset_(kept.head_) {}
        std::string_view next(std::size_t size) {
            const Block* b = &kept_.blocks_[index_];
            if (offset_ == b->used && size > 0) {
                // This block is read to its end: a stanza that did not fit in its room when it
                // was pushed starts the next one.
                b = &kept_.blocks_[++index_];
                offset_ = 0;
            }
            const std::string_view out(b->data.get() + offset_, size);
            offset_ += size;
            return out;
        }

    private:
        const KeptBytes& kept_;
        std::size_t index_ = 0;
        std::size_t offset_;
    };

private:
    struct Block {
        std::unique_ptr<char[]> data;
        std::size_t capacity = 0;
        std::size_t used = 0;
    };

    Block new_block(std::size_t at_least) {
        if (spare_.data && spare_.capacity >= at_least) {
            Block b = std::move(spare_);
            spare_ = Block{};
            b.used = 0;
            return b;
        }
        Block b;
        b.capacity = std::max(at_least, kBlock);
        b.data = std::make_unique_for_overwrite<char[]>(b.capacity);
        return b;
    }

    // An emptied block of the usual size becomes the spare; a larger one is freed.
    void retire(Block b) {
        if (b.capacity == kBlock && !spare_.data) {
            b.used = 0;
            spare_ = std::move(b);
        }
    }

    std::vector<Block> blocks_;
    std::size_t head_ = 0; // where the oldest stanza starts in blocks_.front()
    Block spare_;
};

} // namespace pcj::detail
