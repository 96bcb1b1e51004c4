//! The signing threads: a fixed set (one per core by default) pulling from one shared queue.
//!
//! RSA signing is CPU-bound (~0.7 ms for RSA-2048), so it must not run on the async executor.
//! Tokio's blocking pool works, but every signature then pays a semaphore hand-off, a thread
//! wake-up and a join: measured on 2 cores, the server kept only 1.5–1.8 cores busy at 64
//! connections. Dedicated threads blocked on a multi-consumer queue take the next job the moment
//! they finish one, so the cores stay busy while any request waits for a signature.
//!
//! The signing threads run at a lower priority (nice 10 on Linux) than the async workers, so
//! health checks, cache hits and request parsing are served first even when every core is
//! signing; signing takes whatever CPU the workers leave, which on a dedicated machine is nearly
//! all of it. (At equal priority, `/healthz` waited tens of milliseconds behind the signing
//! threads when two servers shared two cores in the test suite.)
//!
//! Queue length needs no bound of its own: the server's concurrency limit and the batch limit
//! bound the jobs in flight. A job whose request has gone away (timed out, client disconnected) is
//! skipped when a thread reaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cfsign::{HashAlgorithm, Signer};
use tokio::sync::oneshot;

/// One signature to make.
pub(crate) struct Job {
    /// The key's one signer, whichever the hash.
    pub(crate) signer: Arc<Signer>,
    /// The hash to sign with.
    pub(crate) hash: HashAlgorithm,
    /// The policy bytes to sign.
    pub(crate) policy: Vec<u8>,
}

/// What the pool reports about itself (for the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolStats {
    /// The number of signing threads.
    pub(crate) threads: usize,
    /// Jobs waiting for a thread.
    pub(crate) queued: usize,
    /// Jobs skipped so far because their request had gone away before a thread reached them.
    pub(crate) skipped: u64,
}

/// Why the pool could not sign a job.
#[derive(Debug)]
pub(crate) enum PoolError {
    /// The key refused to sign (an OpenSSL or RustCrypto error).
    Signing(cfsign::Error),
    /// The pool has no threads left (every thread stopped) or the job's thread panicked.
    Unavailable,
}

/// A job with the channel its result goes back on.
struct Queued {
    job: Job,
    reply: oneshot::Sender<Result<(Job, Vec<u8>), cfsign::Error>>,
}

/// A fixed set of signing threads behind one queue. Dropping the pool closes the queue; each
/// thread finishes its current job and exits.
pub(crate) struct SigningPool {
    queue: crossbeam_channel::Sender<Queued>,
    threads: usize,
    skipped: Arc<AtomicU64>,
}

impl SigningPool {
    /// Starts `threads` signing threads (at least one), named `cfsign-sign-N`.
    pub(crate) fn start(threads: usize) -> std::io::Result<SigningPool> {
        let threads = threads.max(1);
        let (queue, jobs) = crossbeam_channel::unbounded::<Queued>();
        let skipped = Arc::new(AtomicU64::new(0));
        for n in 0..threads {
            let jobs = jobs.clone();
            let skipped = Arc::clone(&skipped);
            std::thread::Builder::new()
                .name(format!("cfsign-sign-{n}"))
                .spawn(move || work(&jobs, &skipped))?;
        }
        Ok(SigningPool {
            queue,
            threads,
            skipped,
        })
    }

    /// The pool's numbers now.
    pub(crate) fn stats(&self) -> PoolStats {
        PoolStats {
            threads: self.threads,
            queued: self.queue.len(),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    /// Signs every job, spread over the threads; results come back in the jobs' order, each with
    /// its job (so the caller can cache the policy without copying it). Dropping the future
    /// abandons the jobs no thread has started.
    pub(crate) async fn sign(&self, jobs: Vec<Job>) -> Result<Vec<(Job, Vec<u8>)>, PoolError> {
        let mut pending = Vec::with_capacity(jobs.len());
        for job in jobs {
            let (reply, result) = oneshot::channel();
            self.queue
                .send(Queued { job, reply })
                .map_err(|_| PoolError::Unavailable)?;
            pending.push(result);
        }
        let mut done = Vec::with_capacity(pending.len());
        for result in pending {
            match result.await {
                Ok(Ok(signed)) => done.push(signed),
                Ok(Err(err)) => return Err(PoolError::Signing(err)),
                Err(_) => return Err(PoolError::Unavailable),
            }
        }
        Ok(done)
    }
}

/// The niceness of the signing threads on Linux (0 is normal, 19 the lowest priority).
pub(crate) const SIGNING_NICENESS: i32 = 10;

/// Lowers the calling thread's priority to [`SIGNING_NICENESS`]. Failure (a platform without
/// per-thread priorities, a sandbox that forbids it) only costs responsiveness under load.
fn lower_priority() {
    // `Crossplatform(p)` maps 0..=99 onto niceness 19..=-20 for the normal scheduling policy:
    // 22 is niceness 10 (checked by the test below).
    let priority = thread_priority::ThreadPriorityValue::try_from(22u8)
        .map(thread_priority::ThreadPriority::Crossplatform);
    let result = priority.map_err(|e| e.to_string()).and_then(|p| {
        thread_priority::set_current_thread_priority(p).map_err(|e| format!("{e:?}"))
    });
    if let Err(err) = result {
        tracing::warn!(
            error = %err,
            niceness = SIGNING_NICENESS,
            "cannot lower the signing threads' priority; health checks may wait behind signing under full load"
        );
    }
}

/// A signing thread's loop: runs until the queue is closed.
fn work(jobs: &crossbeam_channel::Receiver<Queued>, skipped: &AtomicU64) {
    lower_priority();
    while let Ok(Queued { job, reply }) = jobs.recv() {
        if reply.is_closed() {
            // Nobody waits for this signature any more.
            skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // A panic must not take the thread down with it: the job's caller sees `Unavailable`
        // (its reply channel is dropped) and the thread takes the next job.
        let signed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            job.signer.sign_bytes_with(job.hash, &job.policy)
        }));
        if let Ok(result) = signed {
            // The receiver may have gone away meanwhile; then the signature is simply dropped.
            let _ = reply.send(result.map(|signature| (job, signature)));
        }
    }
}

#[cfg(test)]
mod tests {
    use cfsign::{Backend, PrivateKey};

    use super::*;

    /// The test key `tests/data/test-key-a.pem`, as the server loads keys.
    fn signer() -> Arc<Signer> {
        let pem = include_bytes!("../tests/data/test-key-a.pem");
        let key = PrivateKey::parse(pem).expect("the test key parses");
        let id = "K2JCJMDEHXQW5F".parse().expect("a valid key pair ID");
        Arc::new(Signer::with_backend(id, key, Backend::fastest()))
    }

    #[tokio::test]
    async fn signs_in_order_on_several_threads() {
        let pool = SigningPool::start(3).expect("threads start");
        assert_eq!(pool.stats().threads, 3);
        let signer = signer();
        // Alternate the hashes: one signer signs with the hash each job names.
        let hash = |i: usize| {
            if i.is_multiple_of(2) {
                HashAlgorithm::Sha1
            } else {
                HashAlgorithm::Sha256
            }
        };
        let policies: Vec<Vec<u8>> = (0..20)
            .map(|i| format!("policy {i}").into_bytes())
            .collect();
        let jobs = policies
            .iter()
            .enumerate()
            .map(|(i, policy)| Job {
                signer: Arc::clone(&signer),
                hash: hash(i),
                policy: policy.clone(),
            })
            .collect();
        let signed = pool.sign(jobs).await.expect("signed");
        assert_eq!(signed.len(), policies.len());
        for (i, ((job, signature), policy)) in signed.iter().zip(&policies).enumerate() {
            assert_eq!(&job.policy, policy);
            assert_eq!(job.hash, hash(i));
            let expected = signer
                .sign_bytes_with(hash(i), policy)
                .expect("direct signature");
            assert_eq!(signature, &expected, "signature for {policy:?}");
            let other = signer
                .sign_bytes_with(hash(i + 1), policy)
                .expect("direct signature");
            assert_ne!(signature, &other, "the hash of {policy:?} matters");
        }
    }

    #[tokio::test]
    async fn empty_batches_and_dropped_requests_are_fine() {
        let pool = SigningPool::start(1).expect("threads start");
        assert!(
            pool.sign(Vec::new())
                .await
                .expect("nothing to sign")
                .is_empty()
        );
        let signer = signer();
        // Abandon a large batch right after queueing it: the thread skips what is left and keeps
        // serving later requests.
        let jobs = |n: usize| -> Vec<Job> {
            (0..n)
                .map(|i| Job {
                    signer: Arc::clone(&signer),
                    hash: HashAlgorithm::Sha256,
                    policy: vec![b'x'; i + 1],
                })
                .collect()
        };
        {
            let abandoned = pool.sign(jobs(500));
            tokio::pin!(abandoned);
            assert!(futures_poll_once(abandoned.as_mut()).await.is_none());
        }
        let signed = pool
            .sign(jobs(1))
            .await
            .expect("signed after an abandoned batch");
        assert_eq!(signed.len(), 1);
        // The queue is FIFO and has one thread: by the time the new job is signed, every job of
        // the abandoned batch has been reached, and all but the one or two already started skipped.
        assert!(
            pool.stats().skipped >= 498,
            "only {} of 500 abandoned jobs were skipped",
            pool.stats().skipped
        );
    }

    /// The niceness of the thread running this, from `/proc` (Linux).
    #[cfg(target_os = "linux")]
    fn current_niceness() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self");
        let after_comm = &stat[stat.rfind(')').expect("a comm field") + 1..];
        // Fields after the comm: state is field 3; nice is field 19.
        after_comm
            .split_whitespace()
            .nth(16)
            .expect("a nice field")
            .parse()
            .expect("a number")
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn signing_threads_run_at_lower_priority() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            lower_priority();
            tx.send(current_niceness()).expect("the test waits");
        });
        assert_eq!(rx.recv().expect("the thread reports"), SIGNING_NICENESS);
        assert_ne!(
            current_niceness(),
            SIGNING_NICENESS,
            "only the signing thread is lowered"
        );
    }

    /// Polls `future` once; `Some` if it completed.
    async fn futures_poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
        let mut future = future;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(output) => Some(output),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
