//! Waiting for the other side of a job hand-over without sleeping, when that pays.
//!
//! A before-hook's JS runs in ~20 µs, but waking a sleeping thread (the isolate's runtime through
//! its eventfd, the caller through a futex) cost 30–40 µs more on each side on these 2-core
//! virtual machines. So both sides first look for a while: the isolate for its next job, the
//! caller for its answer. Under load that look mostly finds nothing and burns the CPU the
//! isolates need (measured: −25% creates/s with a before-hook at 16 connections), so a look that
//! found nothing makes the next ones sleep straight away, for twice as many waits each time it
//! happens again (up to 256); one that found something lets the following ones look again.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const MAX_BACKOFF_SHIFT: u32 = 8;

#[derive(Default)]
pub struct SpinPolicy {
    /// Looks in a row that found nothing (each doubling the waits to skip after it).
    misses: AtomicU32,
    /// Waits left that sleep without looking.
    skip: AtomicU32,
}

impl SpinPolicy {
    /// Calls `poll` until it gives something or `window` has passed, unless recent looks were
    /// in vain; `None` means: sleep on it. `pause` runs between polls: [`spin`] on a thread of
    /// its own, [`yield_to_others`] in a task, which must never hold up a worker thread.
    pub async fn look<T>(&self, window: Duration, mut pause: impl AsyncFnMut(), mut poll: impl FnMut() -> Option<T>) -> Option<T> {
        if let Some(found) = poll() {
            return Some(found);
        }
        if !self.worth_looking() {
            return None;
        }
        let until = Instant::now() + window;
        while Instant::now() < until {
            pause().await;
            if let Some(found) = poll() {
                self.found();
                return Some(found);
            }
        }
        self.missed();
        None
    }

    fn worth_looking(&self) -> bool {
        let skip = self.skip.load(Ordering::Relaxed);
        if skip == 0 {
            return true;
        }
        self.skip.store(skip - 1, Ordering::Relaxed);
        false
    }

    fn found(&self) {
        self.misses.store(0, Ordering::Relaxed);
    }

    fn missed(&self) {
        let misses = (self.misses.load(Ordering::Relaxed) + 1).min(MAX_BACKOFF_SHIFT);
        self.misses.store(misses, Ordering::Relaxed);
        self.skip.store(1 << misses, Ordering::Relaxed);
    }
}

/// A pause for [`SpinPolicy::look`] that keeps the thread.
pub async fn spin() {
    std::hint::spin_loop();
}

/// A pause for [`SpinPolicy::look`] that lets the runtime's other tasks run.
pub async fn yield_to_others() {
    tokio::task::yield_now().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn looks_that_find_nothing_back_off_and_a_find_resets_them() {
        let policy = SpinPolicy::default();
        let window = Duration::from_micros(5);
        assert_eq!(policy.look(window, spin, || None::<()>).await, None);
        // One miss: the next two waits don't look.
        let mut polls = 0;
        for _ in 0..2 {
            assert_eq!(
                policy.look(window, spin, || {
                    polls += 1;
                    None::<()>
                })
                .await,
                None
            );
        }
        assert_eq!(polls, 2, "a wait that doesn't look still polls once");
        assert_eq!(policy.look(window, spin, || Some(1)).await, Some(1));
        // Looking again, it finds what arrives within the window.
        let mut calls = 0;
        assert_eq!(
            policy.look(Duration::from_millis(50), spin, || {
                calls += 1;
                (calls > 3).then_some(7)
            })
            .await,
            Some(7)
        );
        assert_eq!(policy.misses.load(Ordering::Relaxed), 0);
    }
}
