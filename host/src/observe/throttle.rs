//! A warning that may happen on every request, logged at most once per
//! interval with how many times it happened since the last line: an outage
//! makes one line every few seconds, not one per request turned away.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub struct Throttle {
    interval: Duration,
    /// When the last line was written, and what happened since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    pub fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// Counts one more; `Some(times)` when a line is due now, saying how many
    /// times it happened since the last one (this one included).
    pub fn note(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, count) = &mut *state;
        *count += 1;
        if last.is_some_and(|at| at.elapsed() < self.interval) {
            return None;
        }
        *last = Some(Instant::now());
        Some(std::mem::take(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_time_is_said_at_once_and_the_rest_within_the_interval_are_counted() {
        let throttle = Throttle::new(Duration::from_millis(200));
        assert_eq!(throttle.note(), Some(1));
        assert_eq!((throttle.note(), throttle.note()), (None, None));
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(throttle.note(), Some(3), "two held back, and this one");
    }
}
