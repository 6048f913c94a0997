//! A small in-process read cache with a time to live, for hot catalog reads.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Caches values for `ttl`. Readers share values through `Arc`; a full cache is emptied
/// rather than tracked per entry, which is cheap and bounded.
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: RwLock<HashMap<K, (Instant, Arc<V>)>>,
    // Bumped by every `clear`: a value loaded before a clear is not stored after it, so a
    // read racing an invalidation cannot put the old value back for a whole TTL.
    generation: AtomicU64,
    // One load per key at a time: a miss under load waits for the read already at the
    // database instead of sending its own. Keys share a few locks by hash.
    loading: [tokio::sync::Mutex<()>; LOAD_LOCKS],
}

const LOAD_LOCKS: usize = 16;

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    /// A cache holding at most `capacity` entries, each for `ttl`. A zero `ttl` caches nothing.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity,
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
            loading: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
        }
    }

    /// The fresh value for `key`, if any.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| Arc::clone(v))
    }

    /// The fresh value for `key`, or the one `load` gives, which is cached unless the cache
    /// was cleared while it loaded.
    pub async fn get_or_load<E, Fut>(
        &self,
        key: &K,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<V>, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        if self.ttl.is_zero() {
            return load().await.map(Arc::new);
        }
        let _turn = self.loading[self.lock_of(key)].lock().await;
        if let Some(hit) = self.get(key) {
            return Ok(hit);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = load().await?;
        Ok(self.insert_if_current(key.clone(), value, generation))
    }

    fn lock_of(&self, key: &K) -> usize {
        use std::hash::{BuildHasher, RandomState};
        // Fixed keys per process are enough to spread keys over the locks.
        static STATE: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
        let hash = STATE.get_or_init(RandomState::new).hash_one(key);
        usize::try_from(hash % LOAD_LOCKS as u64).unwrap_or(0)
    }

    fn insert_if_current(&self, key: K, value: V, generation: u64) -> Arc<V> {
        let value = Arc::new(value);
        if self.ttl.is_zero() {
            return value;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // `clear` bumps the generation under this lock, so the check cannot race it.
        if self.generation.load(Ordering::Acquire) != generation {
            return value;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), Arc::clone(&value)));
        value
    }

    /// Forgets everything, e.g. after a catalog edit, and refuses values loaded before now.
    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
        fn insert(&self, key: K, value: V) -> Arc<V> {
            let generation = self.generation.load(Ordering::Acquire);
            self.insert_if_current(key, value, generation)
        }
    }

    #[tokio::test]
    async fn a_value_loaded_before_a_clear_is_not_cached_after_it() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        let stale = cache
            .get_or_load(&"a", || async {
                // An invalidation lands while this read is still at the database.
                cache.clear();
                Ok::<_, ()>(1)
            })
            .await
            .expect("loads");
        assert_eq!(*stale, 1, "the caller still gets what it read");
        assert_eq!(cache.get(&"a"), None, "but it is not kept");
        let fresh = cache
            .get_or_load(&"a", || async { Ok::<_, ()>(2) })
            .await
            .expect("loads");
        assert_eq!(*fresh, 2);
        assert_eq!(cache.get(&"a").as_deref(), Some(&2));
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_key_load_it_once() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        let loads = AtomicU64::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, ()>(7)
        };
        let (a, b, c) = tokio::join!(
            cache.get_or_load(&"k", load),
            cache.get_or_load(&"k", load),
            cache.get_or_load(&"k", load)
        );
        assert_eq!((*a.expect("a"), *b.expect("b"), *c.expect("c")), (7, 7, 7));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn returns_fresh_values_and_forgets_stale_ones() {
        let cache = TtlCache::new(Duration::from_millis(30), 10);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a").as_deref(), Some(&1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
    }

    #[test]
    fn zero_ttl_caches_nothing() {
        let cache = TtlCache::new(Duration::ZERO, 10);
        assert_eq!(*cache.insert("a", 1), 1);
        assert_eq!(cache.get(&"a"), None);
    }

    #[test]
    fn never_grows_past_capacity() {
        let cache = TtlCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.insert(i, i);
        }
        assert!(cache.entries.read().expect("lock").len() <= 3);
        assert_eq!(cache.get(&9).as_deref(), Some(&9));
    }

    #[test]
    fn clear_empties_the_cache() {
        let cache = TtlCache::new(Duration::from_secs(60), 3);
        cache.insert(1, 1);
        cache.clear();
        assert_eq!(cache.get(&1), None);
    }
}
