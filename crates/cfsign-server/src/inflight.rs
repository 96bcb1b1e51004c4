//! One `kms:Sign` per policy at a time (feature `aws`): requests that miss the signature cache
//! for the same (key, hash, policy) while a call for it is under way wait for that call instead
//! of each calling KMS, so a burst for a hot resource costs one call, not one per request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use cfsign::HashAlgorithm;
use tokio::sync::OnceCell;

/// What one call gives everyone waiting on it.
type Outcome = Result<Vec<u8>, Arc<cfsign_aws::Error>>;

/// A call under way, by (key pair ID, hash, policy bytes).
type Key = (String, HashAlgorithm, Vec<u8>);

/// The calls under way.
#[derive(Default)]
pub(crate) struct InFlight {
    calls: Mutex<HashMap<Key, Arc<OnceCell<Outcome>>>>,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<OnceCell<Outcome>>>> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The outcome of `call` for `key`, run once however many ask at the same time; whether this
    /// caller ran it (and should count it). If the caller running it is cancelled, a waiting one
    /// takes over.
    pub(crate) async fn run<F, Fut>(&self, key: Key, call: F) -> (Outcome, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<u8>, cfsign_aws::Error>>,
    {
        let cell = Arc::clone(self.lock().entry(key.clone()).or_default());
        let mut ran = false;
        let outcome = cell
            .get_or_init(|| {
                ran = true;
                let future = call();
                async move { future.await.map_err(Arc::new) }
            })
            .await
            .clone();
        if ran {
            let mut calls = self.lock();
            if calls.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                calls.remove(&key);
            }
        }
        (outcome, ran)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_for_one_policy_run_once() {
        let inflight = Arc::new(InFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (inflight, calls) = (Arc::clone(&inflight), Arc::clone(&calls));
            tasks.spawn(async move {
                let key = ("K1".to_owned(), HashAlgorithm::Sha256, b"policy".to_vec());
                inflight
                    .run(key, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok(vec![1, 2, 3])
                    })
                    .await
            });
        }
        let mut ran = 0;
        while let Some(joined) = tasks.join_next().await {
            let (outcome, led) = joined.unwrap();
            assert_eq!(outcome.unwrap(), vec![1, 2, 3]);
            ran += usize::from(led);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(ran, 1);
        // Done: the next call runs again (only calls under way are shared).
        let key = ("K1".to_owned(), HashAlgorithm::Sha256, b"policy".to_vec());
        let (_, led) = inflight.run(key, || async { Ok(vec![4]) }).await;
        assert!(led);
    }
}
