//! A bounded LRU cache of signatures keyed by (key ID, hash algorithm, policy bytes).
//!
//! RSA PKCS#1 v1.5 signatures are deterministic, so the same policy signed by the same key always
//! gives the same signature; ECDSA signatures are not, but any valid one will do. The cache is
//! split into shards, each behind its own mutex, so concurrent requests rarely wait for each other.
//! Entries are keyed by the SHA-256 of (key ID, hash algorithm, policy): a lookup allocates
//! nothing and an entry holds 32 bytes of key instead of the whole policy.

use std::hash::{BuildHasher, Hash, RandomState};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cfsign::{HashAlgorithm, KeyPairId};
use lru::LruCache;
use sha2::{Digest, Sha256};

const SHARDS: usize = 16;

/// SHA-256 of (key ID, hash algorithm, policy bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CacheKey([u8; 32]);

impl CacheKey {
    fn new(key_id: &KeyPairId, hash: HashAlgorithm, policy: &[u8]) -> CacheKey {
        let mut digest = Sha256::new();
        // Key IDs are `[A-Z0-9]+`, so the NUL cannot occur in one: the fields cannot run together.
        digest.update(key_id.as_str().as_bytes());
        digest.update([0, hash_tag(hash)]);
        digest.update(policy);
        CacheKey(digest.finalize().into())
    }
}

fn hash_tag(hash: HashAlgorithm) -> u8 {
    match hash {
        HashAlgorithm::Sha256 => 2,
        _ => 1,
    }
}

/// One shard: raw signatures by cache key.
type Shard = Mutex<LruCache<CacheKey, Arc<[u8]>>>;

pub(crate) struct SignatureCache {
    /// Always [`SHARDS`] shards; their capacity follows the configured capacity.
    shards: Vec<Shard>,
    /// False when the configured capacity is 0: nothing is looked up or stored.
    enabled: AtomicBool,
    hasher: RandomState,
}

/// The capacity of each shard for a total of `capacity` (at least 1: an LRU cannot be empty).
fn per_shard(capacity: usize) -> NonZeroUsize {
    NonZeroUsize::new(capacity.div_ceil(SHARDS)).unwrap_or(NonZeroUsize::MIN)
}

impl SignatureCache {
    /// A cache holding about `capacity` signatures; 0 disables it.
    pub(crate) fn new(capacity: usize) -> SignatureCache {
        let per_shard = per_shard(capacity);
        SignatureCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            enabled: AtomicBool::new(capacity > 0),
            hasher: RandomState::new(),
        }
    }

    /// Changes the capacity (on reload); shrinking drops the least recently used entries, and
    /// 0 disables the cache and empties it.
    pub(crate) fn resize(&self, capacity: usize) {
        self.enabled.store(capacity > 0, Ordering::Relaxed);
        let per_shard = per_shard(capacity);
        for shard in &self.shards {
            if let Ok(mut shard) = shard.lock() {
                shard.resize(per_shard);
                if capacity == 0 {
                    shard.clear();
                }
            }
        }
    }

    fn shard(&self, key: &CacheKey) -> Option<&Shard> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// The cached raw signature of `policy` by `key_id` with `hash`, if any.
    pub(crate) fn get(
        &self,
        key_id: &KeyPairId,
        hash: HashAlgorithm,
        policy: &[u8],
    ) -> Option<Arc<[u8]>> {
        if !self.enabled() {
            return None;
        }
        let key = CacheKey::new(key_id, hash, policy);
        let shard = self.shard(&key)?;
        // A poisoned shard only means another thread panicked mid-update of an LRU list; the
        // cache is an optimisation, so treat it as a miss.
        shard.lock().ok()?.get(&key).cloned()
    }

    /// Remembers `signature` as the signature of `policy` by `key_id` with `hash`.
    pub(crate) fn put(
        &self,
        key_id: &KeyPairId,
        hash: HashAlgorithm,
        policy: &[u8],
        signature: Arc<[u8]>,
    ) {
        if !self.enabled() {
            return;
        }
        let key = CacheKey::new(key_id, hash, policy);
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
        self.enabled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> KeyPairId {
        s.parse().expect("a valid key pair ID")
    }

    #[test]
    fn bounded_and_disabled() {
        let k1 = id("K1");
        let cache = SignatureCache::new(SHARDS);
        for n in 0..100u8 {
            cache.put(
                &k1,
                HashAlgorithm::Sha1,
                &[n],
                Arc::from(n.to_string().into_bytes()),
            );
        }
        let kept = (0..100u8)
            .filter(|n| cache.get(&k1, HashAlgorithm::Sha1, &[*n]).is_some())
            .count();
        assert!(kept <= SHARDS, "{kept}");
        assert_eq!(
            cache.get(&k1, HashAlgorithm::Sha1, &[99]).as_deref(),
            Some(&b"99"[..])
        );
        cache.clear();
        assert!(cache.get(&k1, HashAlgorithm::Sha1, &[99]).is_none());

        let off = SignatureCache::new(0);
        off.put(&k1, HashAlgorithm::Sha1, b"x", Arc::from(&b"x"[..]));
        assert!(off.get(&k1, HashAlgorithm::Sha1, b"x").is_none());
        assert!(!off.enabled());
    }

    #[test]
    fn resizes_on_reload() {
        let k1 = id("K1");
        let count = |cache: &SignatureCache| {
            (0..=255u8)
                .filter(|n| cache.get(&k1, HashAlgorithm::Sha1, &[*n]).is_some())
                .count()
        };
        let fill = |cache: &SignatureCache| {
            for n in 0..=255u8 {
                cache.put(&k1, HashAlgorithm::Sha1, &[n], Arc::from(&b"s"[..]));
            }
        };
        let cache = SignatureCache::new(0);
        fill(&cache);
        assert_eq!(count(&cache), 0);
        cache.resize(10 * SHARDS);
        assert!(cache.enabled());
        fill(&cache);
        let full = count(&cache);
        assert!(full > 5 * SHARDS && full <= 10 * SHARDS, "{full}");
        cache.resize(2 * SHARDS);
        let shrunk = count(&cache);
        assert!(shrunk > 0 && shrunk <= 2 * SHARDS, "{shrunk}");
        cache.resize(0);
        assert!(!cache.enabled());
        cache.resize(SHARDS);
        assert_eq!(count(&cache), 0, "turning the cache off empties it");
    }

    #[test]
    fn key_id_hash_and_policy_all_count() {
        let cache = SignatureCache::new(64);
        cache.put(&id("K1"), HashAlgorithm::Sha1, b"p", Arc::from(&b"s"[..]));
        assert!(cache.get(&id("K1"), HashAlgorithm::Sha1, b"p").is_some());
        assert!(cache.get(&id("K2"), HashAlgorithm::Sha1, b"p").is_none());
        assert!(cache.get(&id("K1"), HashAlgorithm::Sha256, b"p").is_none());
        assert!(cache.get(&id("K1"), HashAlgorithm::Sha1, b"q").is_none());
        // The ID and the policy cannot run together: ("K1", "2p") is not ("K12", "p").
        cache.put(&id("K12"), HashAlgorithm::Sha1, b"p", Arc::from(&b"t"[..]));
        assert!(cache.get(&id("K1"), HashAlgorithm::Sha1, b"2p").is_none());
    }
}
