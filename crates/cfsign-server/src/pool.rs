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
//! The queue is bounded by admission, not by capacity: a request that needs signatures is
//! refused at once ([`PoolError::Full`], answered 503 with `Retry-After`) while `max_queue`
//! signatures already wait, unless `queue_full = "wait"`. A request admitted into a short queue
//! queues all its jobs, so the queue holds at most `max_queue + max_batch - 1` jobs and a batch
//! larger than `max_queue` is still served when the queue is short. Without that bound a signing
//! request under overload waited behind every earlier one until it timed out (408), and so did the
//! requests behind it; with it, the wait is bounded by `max_queue` signatures and the rest learn
//! at once to come back later. Cache hits never reach the queue. A job whose request has gone away
//! (timed out, client disconnected) is skipped when a thread reaches it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

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

/// When a request's jobs may join the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueLimit {
    /// Jobs that may wait before the queue counts as full (at least 1).
    pub(crate) max_queue: usize,
    /// Whether a full queue refuses new requests (`true`) or lets them wait.
    pub(crate) reject_when_full: bool,
}

/// What the pool reports about itself (for the metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolStats {
    /// The number of signing threads.
    pub(crate) threads: usize,
    /// Jobs waiting for a thread.
    pub(crate) queued: usize,
    /// The queue length at which requests are refused (or, with `queue_full = "wait"`, merely
    /// counted as waiting on a full queue).
    pub(crate) max_queue: usize,
    /// Jobs skipped so far because their request had gone away before a thread reached them.
    pub(crate) skipped: u64,
    /// Requests refused so far because the queue was full.
    pub(crate) rejected: u64,
    /// Requests that found the queue full and waited anyway (`queue_full = "wait"`).
    pub(crate) waited_full: u64,
}

/// Why the pool could not sign a job.
#[derive(Debug)]
pub(crate) enum PoolError {
    /// The key refused to sign (an OpenSSL or RustCrypto error).
    Signing(cfsign::Error),
    /// The pool has no threads left (every thread stopped) or the job's thread panicked.
    Unavailable,
    /// `max_queue` jobs wait already and the pool refuses more (`queue_full = "reject"`); the
    /// request should be retried later. Nothing was queued.
    Full {
        /// The queue length that refused it.
        queued: usize,
    },
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
    /// Jobs admitted and not yet taken by a thread: reserved before they are sent, so that
    /// requests admitted at the same moment on different workers cannot overshoot the limit.
    waiting: Arc<AtomicUsize>,
    max_queue: AtomicUsize,
    reject_when_full: AtomicBool,
    rejected: AtomicU64,
    waited_full: AtomicU64,
}

impl SigningPool {
    /// Starts `threads` signing threads (at least one), named `cfsign-sign-N`, admitting jobs by
    /// `limit`.
    pub(crate) fn start(threads: usize, limit: QueueLimit) -> std::io::Result<SigningPool> {
        let threads = threads.max(1);
        let (queue, jobs) = crossbeam_channel::unbounded::<Queued>();
        let skipped = Arc::new(AtomicU64::new(0));
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 0..threads {
            let jobs = jobs.clone();
            let skipped = Arc::clone(&skipped);
            let waiting = Arc::clone(&waiting);
            std::thread::Builder::new()
                .name(format!("cfsign-sign-{n}"))
                .spawn(move || work(&jobs, &waiting, &skipped))?;
        }
        let pool = SigningPool {
            queue,
            threads,
            skipped,
            waiting,
            max_queue: AtomicUsize::new(1),
            reject_when_full: AtomicBool::new(true),
            rejected: AtomicU64::new(0),
            waited_full: AtomicU64::new(0),
        };
        pool.set_limit(limit);
        Ok(pool)
    }

    /// Changes the admission rule (on reload); requests already queued stay queued.
    pub(crate) fn set_limit(&self, limit: QueueLimit) {
        self.max_queue
            .store(limit.max_queue.max(1), Ordering::Relaxed);
        self.reject_when_full
            .store(limit.reject_when_full, Ordering::Relaxed);
    }

    /// The pool's numbers now.
    pub(crate) fn stats(&self) -> PoolStats {
        PoolStats {
            threads: self.threads,
            queued: self.waiting.load(Ordering::Relaxed),
            max_queue: self.max_queue.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            waited_full: self.waited_full.load(Ordering::Relaxed),
        }
    }

    /// Signs every job, spread over the threads; results come back in the jobs' order, each with
    /// its job (so the caller can cache the policy without copying it). Dropping the future
    /// abandons the jobs no thread has started. While `max_queue` jobs wait, a new request is
    /// refused with [`PoolError::Full`] before anything is queued (or, with
    /// `queue_full = "wait"`, queued anyway and counted).
    pub(crate) async fn sign(&self, jobs: Vec<Job>) -> Result<Vec<(Job, Vec<u8>)>, PoolError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        // Reserve first, decide after: of the requests arriving together, only those that found
        // fewer than `max_queue` reserved get in, so fewer than `max_queue + max_batch` ever wait.
        let n = jobs.len();
        let queued = self.waiting.fetch_add(n, Ordering::AcqRel);
        if queued >= self.max_queue.load(Ordering::Relaxed) {
            if self.reject_when_full.load(Ordering::Relaxed) {
                self.waiting.fetch_sub(n, Ordering::AcqRel);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::Full { queued });
            }
            self.waited_full.fetch_add(1, Ordering::Relaxed);
        }
        let mut pending = Vec::with_capacity(n);
        for (sent, job) in jobs.into_iter().enumerate() {
            let (reply, result) = oneshot::channel();
            if self.queue.send(Queued { job, reply }).is_err() {
                // No thread is left to take them: release what was reserved and not sent.
                self.waiting.fetch_sub(n - sent, Ordering::AcqRel);
                return Err(PoolError::Unavailable);
            }
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
fn work(jobs: &crossbeam_channel::Receiver<Queued>, waiting: &AtomicUsize, skipped: &AtomicU64) {
    lower_priority();
    while let Ok(Queued { job, reply }) = jobs.recv() {
        waiting.fetch_sub(1, Ordering::AcqRel);
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

    /// A limit the tests' queues never reach.
    const UNBOUNDED: QueueLimit = QueueLimit {
        max_queue: usize::MAX,
        reject_when_full: true,
    };

    /// The test key `tests/data/test-key-a.pem`, as the server loads keys.
    fn signer() -> Arc<Signer> {
        let pem = include_bytes!("../tests/data/test-key-a.pem");
        let key = PrivateKey::parse(pem).expect("the test key parses");
        let id = "K2JCJMDEHXQW5F".parse().expect("a valid key pair ID");
        Arc::new(Signer::with_backend(id, key, Backend::fastest()))
    }

    #[tokio::test]
    async fn signs_in_order_on_several_threads() {
        let pool = SigningPool::start(3, UNBOUNDED).expect("threads start");
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
        let pool = SigningPool::start(1, UNBOUNDED).expect("threads start");
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

    #[tokio::test]
    async fn a_full_queue_refuses_or_waits_as_configured() {
        let limit = |reject_when_full| QueueLimit {
            max_queue: 8,
            reject_when_full,
        };
        let pool = SigningPool::start(1, limit(true)).expect("threads start");
        let signer = signer();
        let jobs = |n: usize| -> Vec<Job> {
            (0..n)
                .map(|i| Job {
                    signer: Arc::clone(&signer),
                    hash: HashAlgorithm::Sha256,
                    policy: format!("policy {i}").into_bytes(),
                })
                .collect()
        };
        // A batch larger than `max_queue` is admitted into a short queue, and fills it.
        let big = pool.sign(jobs(400));
        tokio::pin!(big);
        assert!(futures_poll_once(big.as_mut()).await.is_none());
        let queued = pool.stats().queued;
        assert!(queued >= 8, "{queued} jobs queued");
        // Refused at once, with nothing queued.
        match pool.sign(jobs(1)).await {
            Err(PoolError::Full { queued }) => assert!(queued >= 8, "{queued}"),
            other => panic!("expected Full, got {:?}", other.map(|v| v.len())),
        }
        assert_eq!(pool.stats().rejected, 1);
        assert!(
            pool.stats().queued <= queued,
            "the refused job was not queued"
        );
        // `wait`: queued behind the batch, signed once the batch is.
        pool.set_limit(limit(false));
        let (big, small) = tokio::join!(big, pool.sign(jobs(1)));
        assert_eq!(big.expect("the batch is signed").len(), 400);
        assert_eq!(small.expect("the waiting request is signed").len(), 1);
        let stats = pool.stats();
        assert_eq!(
            (stats.rejected, stats.waited_full, stats.max_queue),
            (1, 1, 8)
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
