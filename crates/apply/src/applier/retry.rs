//! Retries with exponential backoff and full jitter.

use std::future::Future;
use std::time::Duration;

use crate::target::TargetError;

/// How failed calls to the target are retried.
///
/// Transient errors (throttling, 5xx, timeouts, dropped connections) and write conflicts
/// (a stale write that a re-read and re-apply fixes) are retried up to `attempts` times in all,
/// waiting a random time up to `initial * 2^n` (capped at `max`) before the n-th retry.
/// Ownership conflicts (a field another manager owns), invalid objects and the rest fail at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Tries in all, the first one included (at least 1).
    pub attempts: u32,
    /// The backoff before the first retry.
    pub initial: Duration,
    /// The longest backoff.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 6, initial: Duration::from_millis(100), max: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy { attempts: 1, ..RetryPolicy::default() }
    }

    /// Sets the number of tries.
    #[must_use]
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Sets the first and the longest backoff.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial = initial;
        self.max = max.max(initial);
        self
    }

    /// The wait before retry `n` (0 for the first retry): uniform in `[0, min(max, initial * 2^n)]`.
    pub fn delay(&self, n: u32) -> Duration {
        let ceiling = self.initial.saturating_mul(1u32 << n.min(20)).min(self.max);
        ceiling.mul_f64(jitter())
    }

    /// Runs `call` until it succeeds, fails for good, or runs out of tries. `retried` is told
    /// about every retry.
    pub async fn run<T, F, Fut>(
        &self,
        mut call: F,
        mut retried: impl FnMut(&TargetError, u32),
    ) -> Result<T, TargetError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, TargetError>>,
    {
        let mut n = 0;
        loop {
            match call().await {
                Ok(value) => return Ok(value),
                Err(error) if n + 1 < self.attempts && retryable(&error) => {
                    retried(&error, n + 1);
                    tokio::time::sleep(self.delay(n)).await;
                    n += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// Whether a retry may succeed.
pub(crate) fn retryable(error: &TargetError) -> bool {
    error.is_transient() || error.kind == crate::TargetErrorKind::Conflict
}

/// A number in `[0, 1)`, different on every call: std's randomly keyed hasher over a counter,
/// which is enough to spread retries without a random number crate.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    #[allow(clippy::cast_precision_loss)] // 53 bits of a 64-bit hash are plenty
    let fraction = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
    fraction
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TargetErrorKind;
    use std::cell::Cell;

    #[test]
    fn delays_grow_and_stay_capped() {
        let policy = RetryPolicy::default().backoff(Duration::from_millis(100), Duration::from_millis(800));
        for n in 0..10 {
            let d = policy.delay(n);
            let cap = Duration::from_millis(100 * (1 << n.min(3)));
            assert!(d <= cap, "retry {n}: {d:?} > {cap:?}");
        }
        let spread: std::collections::BTreeSet<Duration> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(spread.len() > 10, "jitter spreads the delays");
    }

    #[tokio::test]
    async fn retries_transient_errors_only() {
        let policy = RetryPolicy::default().attempts(3).backoff(Duration::from_millis(1), Duration::from_millis(2));
        let calls = Cell::new(0);
        let retries = Cell::new(0);
        let result =
            policy
                .run(
                    || {
                        calls.set(calls.get() + 1);
                        let n = calls.get();
                        async move {
                            if n < 3 { Err(TargetError::new(TargetErrorKind::Transient, None, "429")) } else { Ok(n) }
                        }
                    },
                    |_, _| retries.set(retries.get() + 1),
                )
                .await;
        assert_eq!(result.expect("third try"), 3);
        assert_eq!(retries.get(), 2);

        calls.set(0);
        let result: Result<(), _> = policy
            .run(
                || {
                    calls.set(calls.get() + 1);
                    async { Err(TargetError::new(TargetErrorKind::Transient, None, "503")) }
                },
                |_, _| {},
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), 3, "bounded");

        calls.set(0);
        let result: Result<(), _> = policy
            .run(
                || {
                    calls.set(calls.get() + 1);
                    async { Err(TargetError::new(TargetErrorKind::Ownership, None, "conflict with helm")) }
                },
                |_, _| {},
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls.get(), 1, "ownership conflicts need a decision, not a retry");
    }
}
