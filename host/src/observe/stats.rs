//! The host's own measurement of what each request costs it: the time to
//! instantiate the component in its fresh `Store`, in an HDR histogram.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The slowest instantiation the histogram tells apart (in µs); slower ones count as this.
const MAX_MICROS: u64 = 60_000_000;

pub struct Histogram {
    /// Recording takes the lock for a few nanoseconds, once per instantiation of
    /// several microseconds: no contention worth a lock-free design.
    samples: Mutex<hdrhistogram::Histogram<u64>>,
}

impl Default for Histogram {
    fn default() -> Self {
        // Three significant figures: a p99 of 21 µs is 21 µs, of 1.5 s within 1.5 ms.
        let samples = hdrhistogram::Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid bounds");
        Self { samples: Mutex::new(samples) }
    }
}

impl Histogram {
    pub fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_MICROS);
        self.samples().saturating_record(micros);
    }

    pub fn count(&self) -> u64 {
        self.samples().len()
    }

    /// The bound, in whole microseconds, under which `share` of the samples fall.
    pub fn percentile(&self, share: f64) -> Option<u64> {
        let samples = self.samples();
        (!samples.is_empty()).then(|| samples.value_at_quantile(share))
    }

    /// `instantiations: 1200; p50 8 µs, p99 21 µs` — the line benchmarks read.
    pub fn summary(&self) -> String {
        let show = |p: Option<u64>| p.map_or("-".to_string(), |us| format!("{us} µs"));
        format!(
            "instantiations: {}; p50 {}, p99 {}",
            self.count(),
            show(self.percentile(0.50)),
            show(self.percentile(0.99))
        )
    }

    fn samples(&self) -> std::sync::MutexGuard<'_, hdrhistogram::Histogram<u64>> {
        // A panic while recording leaves counts that are still counts.
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_samples() {
        let histogram = Histogram::default();
        for micros in 1..=100 {
            histogram.record(Duration::from_micros(micros));
        }
        assert_eq!(histogram.count(), 100);
        assert_eq!(histogram.percentile(0.50), Some(50));
        assert_eq!(histogram.percentile(0.99), Some(99));
    }

    #[test]
    fn slow_samples_are_measured_not_capped() {
        let histogram = Histogram::default();
        histogram.record(Duration::from_millis(1500));
        let p50 = histogram.percentile(0.5).expect("a sample");
        assert!(p50.abs_diff(1_500_000) <= 1_500, "{p50} µs");
    }

    #[test]
    fn an_empty_histogram_has_no_percentiles() {
        assert_eq!(Histogram::default().percentile(0.5), None);
    }
}
