//! The signers: a fixed number of tasks (one per core by default) on the async workers, taking
//! signatures from one shared queue, one at a time, and letting every other ready task run between
//! two signatures.
//!
//! RSA signing is CPU-bound (~0.3 ms for RSA-2048 with OpenSSL), and where it runs decides both the
//! throughput and what waits behind it:
//!
//! - Tokio's blocking pool pays a semaphore hand-off, a thread wake-up and a join per signature:
//!   on 2 cores the server kept only 1.5–1.8 cores busy.
//! - Dedicated signing threads (the previous design, at nice 10 so requests came first) kept the
//!   cores busy, but every signature crossed threads twice: the worker parked after queueing the
//!   job, the signing thread woke it with the answer, and each wake-up preempted a signing thread.
//!   Measured: 3.1 voluntary context switches per request on the workers, 1.7 preemptions per
//!   request, 378 µs of server CPU per signed URL against 351 µs with signer tasks (wrk against
//!   the release binary, same window; `docs/benchmarks.md`).
//! - Signing inline in the handler has no hand-off, but a cheap request (`/healthz`, a cache hit)
//!   then waits behind every signature queued before it on its worker.
//!
//! So signing happens on the workers, but only in signer tasks: each takes one job, signs it,
//! answers (waking the request's task on the same worker: no thread crosses, no system call) and
//! then yields, so every task that became ready meanwhile (request parsing, cache hits,
//! `/healthz`, writing answers) runs before the next signature. A cheap request waits for at most
//! the signatures already started on its worker, never for the queue; under saturation the workers
//! never park, so nothing is woken across threads at all. An idle signer waits on a [`Notify`] and
//! costs nothing.
//!
//! The queue is bounded by admission, not by capacity: a request that needs signatures is
//! refused at once ([`PoolError::Full`], answered 503 with `Retry-After`) while `max_queue`
//! signatures already wait, unless `queue_full = "wait"`. A request admitted into a short queue
//! queues all its jobs, so the queue holds at most `max_queue + max_batch - 1` jobs and a batch
//! larger than `max_queue` is still served when the queue is short. Without that bound a signing
//! request under overload waited behind every earlier one until it timed out (408), and so did the
//! requests behind it; with it, the wait is bounded by `max_queue` signatures and the rest learn
//! at once to come back later. Cache hits never reach the queue. A job whose request has gone away
//! (timed out, client disconnected) is skipped when a signer reaches it.
//!
//! The signers are spawned on the runtime of the first request that needs one, and spawned again
//! if that runtime has gone (a test that builds the state once and serves it from several
//! runtimes); dropping the pool stops them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use cfsign::{HashAlgorithm, Signer};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

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
    /// The number of signers (signatures computed at once).
    pub(crate) threads: usize,
    /// Jobs waiting for a signer.
    pub(crate) queued: usize,
    /// The queue length at which requests are refused (or, with `queue_full = "wait"`, merely
    /// counted as waiting on a full queue).
    pub(crate) max_queue: usize,
    /// Jobs skipped so far because their request had gone away before a signer reached them.
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
    /// The pool cannot sign: it is shutting down, the job's signer panicked, or the request is
    /// not served by a Tokio runtime.
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

/// What the signers share with the pool.
struct Queue {
    /// The jobs, first in first out.
    jobs: Mutex<VecDeque<Queued>>,
    /// Wakes an idle signer when a job arrives.
    arrived: Notify,
    /// Jobs admitted and not yet taken by a signer: reserved before they are queued, so that
    /// requests admitted at the same moment on different workers cannot overshoot the limit.
    waiting: AtomicUsize,
    skipped: AtomicU64,
}

impl Queue {
    fn push(&self, queued: Queued) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(queued);
        self.arrived.notify_one();
    }

    fn pop(&self) -> Option<Queued> {
        let next = self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        if next.is_some() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
        }
        next
    }
}

/// A fixed number of signer tasks behind one queue. Dropping the pool stops the signers.
pub(crate) struct SigningPool {
    queue: Arc<Queue>,
    threads: usize,
    /// The running signers; empty until the first signature, respawned if their runtime is gone.
    signers: Mutex<Vec<JoinHandle<()>>>,
    max_queue: AtomicUsize,
    reject_when_full: AtomicBool,
    rejected: AtomicU64,
    waited_full: AtomicU64,
}

impl SigningPool {
    /// A pool of `threads` signers (at least one), admitting jobs by `limit`. The signers start
    /// with the first job, on the runtime that serves it.
    pub(crate) fn new(threads: usize, limit: QueueLimit) -> SigningPool {
        let pool = SigningPool {
            queue: Arc::new(Queue {
                jobs: Mutex::new(VecDeque::new()),
                arrived: Notify::new(),
                waiting: AtomicUsize::new(0),
                skipped: AtomicU64::new(0),
            }),
            threads: threads.max(1),
            signers: Mutex::new(Vec::new()),
            max_queue: AtomicUsize::new(1),
            reject_when_full: AtomicBool::new(true),
            rejected: AtomicU64::new(0),
            waited_full: AtomicU64::new(0),
        };
        pool.set_limit(limit);
        pool
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
            queued: self.queue.waiting.load(Ordering::Relaxed),
            max_queue: self.max_queue.load(Ordering::Relaxed),
            skipped: self.queue.skipped.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            waited_full: self.waited_full.load(Ordering::Relaxed),
        }
    }

    /// Starts the signers on the current runtime unless they run already. `false` outside a
    /// Tokio runtime.
    fn ensure_signers(&self) -> bool {
        let mut signers = self.signers.lock().unwrap_or_else(PoisonError::into_inner);
        // A signer only ends when its runtime shuts down (it catches a signature's panic), so
        // either all of them run or none does.
        if !signers.is_empty() && signers.iter().all(|s| !s.is_finished()) {
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        for signer in signers.drain(..) {
            signer.abort();
        }
        signers.extend((0..self.threads).map(|_| runtime.spawn(work(Arc::clone(&self.queue)))));
        true
    }

    /// Signs every job, spread over the signers; results come back in the jobs' order, each with
    /// its job (so the caller can cache the policy without copying it). Dropping the future
    /// abandons the jobs no signer has started. While `max_queue` jobs wait, a new request is
    /// refused with [`PoolError::Full`] before anything is queued (or, with
    /// `queue_full = "wait"`, queued anyway and counted).
    pub(crate) async fn sign(&self, jobs: Vec<Job>) -> Result<Vec<(Job, Vec<u8>)>, PoolError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        if !self.ensure_signers() {
            tracing::error!("a signature was asked for outside a Tokio runtime; nothing signs it");
            return Err(PoolError::Unavailable);
        }
        // Reserve first, decide after: of the requests arriving together, only those that found
        // fewer than `max_queue` reserved get in, so fewer than `max_queue + max_batch` ever wait.
        let n = jobs.len();
        let queued = self.queue.waiting.fetch_add(n, Ordering::AcqRel);
        if queued >= self.max_queue.load(Ordering::Relaxed) {
            if self.reject_when_full.load(Ordering::Relaxed) {
                self.queue.waiting.fetch_sub(n, Ordering::AcqRel);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::Full { queued });
            }
            self.waited_full.fetch_add(1, Ordering::Relaxed);
        }
        let mut pending = Vec::with_capacity(n);
        for job in jobs {
            let (reply, result) = oneshot::channel();
            self.queue.push(Queued { job, reply });
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

impl Drop for SigningPool {
    fn drop(&mut self) {
        for signer in self
            .signers
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            signer.abort();
        }
        // Only abandoned jobs can be left (a waiting request borrows the pool): free them now.
        self.queue
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// A signer's loop: signs the next job, answers it, lets every other ready task run, and waits
/// when the queue is empty. Ends when its task is aborted or its runtime shuts down.
async fn work(queue: Arc<Queue>) {
    loop {
        let Some(Queued { job, reply }) = queue.pop() else {
            // A job pushed after `pop` found none leaves a permit in `arrived`, so this returns
            // at once: no job is left waiting while a signer sleeps.
            queue.arrived.notified().await;
            continue;
        };
        if reply.is_closed() {
            // Nobody waits for this signature any more.
            queue.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        // A panic must not end the signer: the job's caller sees `Unavailable` (its reply channel
        // is dropped) and the signer takes the next job.
        let signed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            job.signer.sign_bytes_with(job.hash, &job.policy)
        }));
        if let Ok(result) = signed {
            // The receiver may have gone away meanwhile; then the signature is simply dropped.
            let _ = reply.send(result.map(|signature| (job, signature)));
        }
        // Everything that became ready during the signature runs before the next one.
        tokio::task::yield_now().await;
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
        let pool = SigningPool::new(3, UNBOUNDED);
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
        let pool = SigningPool::new(1, UNBOUNDED);
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
        let pool = SigningPool::new(1, limit(true));
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

    /// Jobs of `n` distinct policies for `signer`.
    fn distinct_jobs(signer: &Arc<Signer>, n: usize) -> Vec<Job> {
        (0..n)
            .map(|i| Job {
                signer: Arc::clone(signer),
                hash: HashAlgorithm::Sha256,
                policy: format!("policy {i}").into_bytes(),
            })
            .collect()
    }

    /// The point of signer tasks: a cheap task that is ready while a long batch is signed runs
    /// after the signature in progress, not after the batch (on one thread, so nothing can steal
    /// it). Signing the batch inline, or without yielding between signatures, fails this.
    #[test]
    fn ready_tasks_run_between_two_signatures() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let pool = Arc::new(SigningPool::new(1, UNBOUNDED));
            let signer = signer();
            let batch = pool.sign(distinct_jobs(&signer, 40));
            tokio::pin!(batch);
            // Queues the batch and starts the signer, which runs as soon as this task waits.
            assert!(futures_poll_once(batch.as_mut()).await.is_none());
            let cheap = tokio::spawn({
                let pool = Arc::clone(&pool);
                async move { pool.stats().queued }
            });
            assert_eq!(batch.await.expect("signed").len(), 40);
            let queued_when_cheap_ran = cheap.await.expect("the cheap task ran");
            assert!(
                queued_when_cheap_ran >= 38,
                "the cheap task waited for the batch: {queued_when_cheap_ran} of 40 jobs were left"
            );
        });
    }

    #[test]
    fn a_pool_outlives_the_runtime_that_started_its_signers() {
        let pool = SigningPool::new(2, UNBOUNDED);
        let signer = signer();
        for round in 0..3 {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
                .expect("a runtime");
            let signed = runtime.block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(30),
                    pool.sign(distinct_jobs(&signer, 8)),
                )
                .await
            });
            let signed = signed.unwrap_or_else(|_| panic!("round {round}: no signer answered"));
            assert_eq!(signed.expect("signed").len(), 8, "round {round}");
            drop(runtime);
        }
    }

    #[test]
    fn outside_a_runtime_nothing_hangs() {
        let pool = SigningPool::new(1, UNBOUNDED);
        let signer = signer();
        let result = futures_executor_block_on(pool.sign(distinct_jobs(&signer, 1)));
        assert!(
            matches!(result, Err(PoolError::Unavailable)),
            "{:?}",
            result.map(|v| v.len())
        );
        assert_eq!(pool.stats().queued, 0, "nothing was queued");
    }

    /// Drives `future` to completion on this thread without a Tokio runtime.
    fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::yield_now();
        }
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
