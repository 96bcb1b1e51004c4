//! A bounded LRU cache of signatures keyed by (key ID, hash algorithm, policy bytes).
//!
//! RSA PKCS#1 v1.5 signatures are deterministic, so the same policy signed by the same key always
//! gives the same signature; ECDSA signatures are not, but any valid one will do. The cache is
//! split into shards, each behind its own mutex, so concurrent requests rarely wait for each other.

use std::hash::{BuildHasher, Hash, RandomState};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use cfsign::HashAlgorithm;
use lru::LruCache;

const SHARDS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub(crate) key_id: String,
    pub(crate) hash: HashAlgorithm,
    pub(crate) policy: Vec<u8>,
}

/// One shard: raw signatures by cache key.
type Shard = Mutex<LruCache<CacheKey, Arc<[u8]>>>;

pub(crate) struct SignatureCache {
    shards: Vec<Shard>,
    hasher: RandomState,
}

impl SignatureCache {
    /// A cache holding about `capacity` signatures; 0 disables it.
    pub(crate) fn new(capacity: usize) -> SignatureCache {
        let shards = match NonZeroUsize::new(capacity.div_ceil(SHARDS)) {
            Some(per_shard) => (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            None => Vec::new(),
        };
        SignatureCache {
            shards,
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &CacheKey) -> Option<&Shard> {
        if self.shards.is_empty() {
            return None;
        }
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// The cached raw signature, if any.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Arc<[u8]>> {
        let shard = self.shard(key)?;
        // A poisoned shard only means another thread panicked mid-update of an LRU list; the
        // cache is an optimisation, so treat it as a miss.
        shard.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: CacheKey, signature: Arc<[u8]>) {
        if let Some(shard) = self.shard(&key)
            && let Ok(mut shard) = shard.lock()
        {
            shard.put(key, signature);
        }
    }

    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            if let Ok(mut shard) = shard.lock() {
                shard.clear();
            }
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        !self.shards.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> CacheKey {
        CacheKey {
            key_id: "K1".to_owned(),
            hash: HashAlgorithm::Sha1,
            policy: vec![n],
        }
    }

    #[test]
    fn bounded_and_disabled() {
        let cache = SignatureCache::new(SHARDS);
        for n in 0..100 {
            cache.put(key(n), Arc::from(n.to_string().into_bytes()));
        }
        let kept = (0..100).filter(|n| cache.get(&key(*n)).is_some()).count();
        assert!(kept <= SHARDS, "{kept}");
        assert!(cache.get(&key(99)).is_some());
        cache.clear();
        assert!(cache.get(&key(99)).is_none());

        let off = SignatureCache::new(0);
        off.put(key(1), Arc::from(&b"x"[..]));
        assert!(off.get(&key(1)).is_none());
        assert!(!off.enabled());
    }
}
