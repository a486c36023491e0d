//! Block cache with adaptive read-ahead between SQLite's page reads and a [`ByteSource`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{ByteSource, SourceCounters, SourceOptions};

/// Serves reads at any offset from fetched blocks. A miss fetches one block; each miss right
/// after the previous fetch doubles the next fetch (up to `max_read_ahead`), so scans cost few
/// calls while lookups fetch little.
pub struct ReadAhead {
    source: Box<dyn ByteSource>,
    size: u64,
    options: SourceOptions,
    blocks: HashMap<u64, Vec<u8>>,
    /// Block indexes from least to most recently used.
    recency: VecDeque<u64>,
    cached_bytes: u64,
    /// Block index just past the last fetch, and how many blocks the next sequential fetch takes.
    next_sequential: u64,
    run_blocks: u64,
    counters: Arc<Mutex<SourceCounters>>,
}

impl ReadAhead {
    /// Reads `source` as `options` say, counting into `counters`.
    pub fn new(
        source: Box<dyn ByteSource>,
        options: SourceOptions,
        counters: Arc<Mutex<SourceCounters>>,
    ) -> Self {
        let block_size = options.block_size.max(512).next_power_of_two();
        let max_read_ahead = options.max_read_ahead.max(block_size);
        // The cache must hold a whole read-ahead, or a fetch would evict its own first block.
        let cache_bytes = options.cache_bytes.max(2 * u64::from(max_read_ahead));
        let head_bytes = options.head_bytes.min(max_read_ahead);
        let options = SourceOptions { block_size, max_read_ahead, cache_bytes, head_bytes };
        ReadAhead {
            size: source.size(),
            source,
            options,
            blocks: HashMap::new(),
            recency: VecDeque::new(),
            cached_bytes: 0,
            next_sequential: u64::MAX,
            run_blocks: 1,
            counters,
        }
    }

    /// The source's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Copies bytes at `offset` into `buf`; returns how many (fewer only at the end of file).
    pub fn read(&mut self, buf: &mut [u8], offset: u64) -> Result<usize, String> {
        self.count(|c| c.page_reads += 1);
        let end = offset.saturating_add(buf.len() as u64).min(self.size);
        let block_size = u64::from(self.options.block_size);
        let mut at = offset;
        while at < end {
            let index = at / block_size;
            if !self.blocks.contains_key(&index) {
                self.fetch_from(index)?;
            }
            self.touch(index);
            let block = self.blocks.get(&index).ok_or("a fetched block left the cache")?;
            let within = (at - index * block_size) as usize;
            let n = ((end - at) as usize).min(block.len().saturating_sub(within));
            if n == 0 {
                break;
            }
            let dst = (at - offset) as usize;
            buf[dst..dst + n].copy_from_slice(&block[within..within + n]);
            at += n as u64;
        }
        Ok((at - offset) as usize)
    }

    /// Fetches block `index` and, when reads are sequential, the blocks after it, in one call.
    fn fetch_from(&mut self, index: u64) -> Result<(), String> {
        let block_size = u64::from(self.options.block_size);
        let max_blocks = u64::from(self.options.max_read_ahead) / block_size;
        let first_fetch = self.next_sequential == u64::MAX;
        self.run_blocks = if first_fetch && index == 0 {
            (u64::from(self.options.head_bytes) / block_size).max(1)
        } else if index == self.next_sequential {
            (self.run_blocks * 2).min(max_blocks)
        } else {
            1
        };
        let last_block = self.size.div_ceil(block_size);
        let mut count = 1;
        while count < self.run_blocks
            && index + count < last_block
            && !self.blocks.contains_key(&(index + count))
        {
            count += 1;
        }
        let start = index * block_size;
        let len = (count * block_size).min(self.size - start) as usize;
        let mut data = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let n = self.source.read_at(start + filled as u64, &mut data[filled..])?;
            self.count(|c| {
                c.fetches += 1;
                c.bytes_fetched += n as u64;
            });
            if n == 0 {
                break;
            }
            filled += n;
        }
        data.truncate(filled);
        self.next_sequential = index + count;
        if first_fetch && index == 0 {
            // The head is read once; what follows it starts small again.
            self.run_blocks = 1;
        }
        for (i, chunk) in data.chunks(block_size as usize).enumerate() {
            self.insert(index + i as u64, chunk.to_vec());
        }
        Ok(())
    }

    fn insert(&mut self, index: u64, block: Vec<u8>) {
        self.cached_bytes += block.len() as u64;
        self.blocks.insert(index, block);
        self.recency.push_back(index);
        while self.cached_bytes > self.options.cache_bytes && self.recency.len() > 1 {
            let Some(oldest) = self.recency.pop_front() else { break };
            if let Some(old) = self.blocks.remove(&oldest) {
                self.cached_bytes -= old.len() as u64;
            }
        }
        let cached = self.cached_bytes;
        self.count(|c| c.cached_bytes = cached);
    }

    fn touch(&mut self, index: u64) {
        if self.recency.back() != Some(&index)
            && let Some(at) = self.recency.iter().rposition(|i| *i == index)
        {
            self.recency.remove(at);
            self.recency.push_back(index);
        }
    }

    fn count(&self, update: impl FnOnce(&mut SourceCounters)) {
        update(&mut self.counters.lock().unwrap_or_else(|e| e.into_inner()));
    }
}
