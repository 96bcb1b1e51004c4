//! The grant cache: requests already granted, served again without verifying while their
//! signature's time window holds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;

use cfsign::UnixTime;

/// The most grants remembered per behaviour; the cache is emptied when full.
const GRANT_CACHE_ENTRIES: usize = 8192;

/// Grants already decided for exact (URL, Cookie header, client IP) triples, with the window in
/// which they hold: a verification is deterministic, so the same request granted at `from` is
/// granted at any `now` in `from..expires` (later times only pass `DateGreaterThan` more easily).
/// Denials are never cached. The cache lives in the edge view, so any control-plane change
/// starts a fresh one.
#[derive(Debug, Default)]
pub(super) struct GrantCache {
    map: RwLock<HashMap<GrantKey, (UnixTime, UnixTime)>>,
}

/// URL, Cookie header (empty if none) and client IP.
pub(super) type GrantKey = (String, String, IpAddr);

impl GrantCache {
    /// Whether `key` was granted in a window that holds at `now`.
    pub(super) fn get(&self, key: &GrantKey, now: UnixTime) -> bool {
        let map = match self.map.read() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(key)
            .is_some_and(|(from, expires)| *from <= now && now < *expires)
    }

    /// Remembers that `key` was granted at `from`, until `expires`.
    pub(super) fn insert(&self, key: GrantKey, from: UnixTime, expires: UnixTime) {
        let mut map = match self.map.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= GRANT_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, (from, expires));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_cache_holds_only_inside_the_window() {
        let cache = GrantCache::default();
        let at = |s| UnixTime::from_secs(s).unwrap();
        let key = (
            "http://h/a".to_owned(),
            String::new(),
            IpAddr::from([127, 0, 0, 1]),
        );
        assert!(!cache.get(&key, at(100)));
        cache.insert(key.clone(), at(100), at(200));
        assert!(cache.get(&key, at(100)) && cache.get(&key, at(199)));
        assert!(!cache.get(&key, at(200)) && !cache.get(&key, at(99)));
        let other_ip = (key.0.clone(), key.1.clone(), IpAddr::from([127, 0, 0, 2]));
        assert!(!cache.get(&other_ip, at(150)));
    }
}
