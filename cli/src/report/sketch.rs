//! A lane's run durations in bounded memory: a log-bucket histogram (a bucket per factor
//! of [`GROWTH`] of milliseconds), so the median and p95 of any number of runs come from at
//! most a few thousand counters, each within [`RELATIVE_ERROR`] of the exact nearest-rank
//! value. Pure.

use std::collections::BTreeMap;

use chrono::Duration;

/// Each bucket spans durations from `GROWTH^i` to `GROWTH^(i+1)` milliseconds.
const GROWTH: f64 = 1.01;
/// How far a percentile may be from the exact one, as a fraction of it: a bucket answers
/// with the point that is as far (relatively) from both its ends.
pub const RELATIVE_ERROR: f64 = (GROWTH - 1.0) / (GROWTH + 1.0);

/// Counts of durations per bucket; durations under a millisecond count in bucket `None`.
/// A year of milliseconds is under 3,200 buckets, however many runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurationSketch {
    buckets: BTreeMap<Option<i32>, u64>,
    count: u64,
}

impl DurationSketch {
    pub fn add(&mut self, duration: Duration) {
        let millis = duration.num_milliseconds();
        let bucket = (millis >= 1).then(|| ((millis as f64).ln() / GROWTH.ln()).floor() as i32);
        *self.buckets.entry(bucket).or_default() += 1;
        self.count += 1;
    }

    #[cfg(test)]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The nearest-rank value at `fraction` (0..=1), within [`RELATIVE_ERROR`]; `None`
    /// when empty.
    pub fn percentile(&self, fraction: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = ((fraction * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (bucket, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                return Some(match bucket {
                    None => Duration::zero(),
                    Some(index) => {
                        let low = GROWTH.powi(*index);
                        let middle = 2.0 * low * GROWTH / (1.0 + GROWTH);
                        Duration::milliseconds(middle.round() as i64)
                    }
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact nearest-rank value of `sorted`.
    fn exact(sorted: &[i64], fraction: f64) -> i64 {
        let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn percentiles_stay_within_the_stated_error_of_the_exact_ones() {
        let mut state: u64 = 3;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            i64::try_from((state >> 33) % n).unwrap_or_default()
        };
        for count in [1, 2, 3, 10, 101, 5_000] {
            let mut sketch = DurationSketch::default();
            let mut values: Vec<i64> = (0..count)
                .map(|_| 1 + next(3) * 1_000 + next(7_200_000))
                .collect();
            for value in &values {
                sketch.add(Duration::milliseconds(*value));
            }
            values.sort();
            for fraction in [0.0, 0.5, 0.95, 1.0] {
                let want = exact(&values, fraction) as f64;
                let got = sketch.percentile(fraction).map(|d| d.num_milliseconds());
                let got = got.unwrap_or_default() as f64;
                assert!(
                    (got - want).abs() <= want * RELATIVE_ERROR + 1.0,
                    "{count} values, {fraction}: {got} for {want}"
                );
            }
        }
    }

    #[test]
    fn memory_is_bounded_by_the_range_not_the_count() {
        let mut sketch = DurationSketch::default();
        for second in 0..200_000 {
            sketch.add(Duration::seconds(second % 3_600));
        }
        assert_eq!(sketch.count(), 200_000);
        assert!(sketch.buckets.len() < 1_000, "{}", sketch.buckets.len());
        // 0..1999 s occur 56 times each, the rest 55: the 100,000th value is 1,785 s
        let median = sketch.percentile(0.5).map(|d| d.num_milliseconds() as f64);
        let median = median.unwrap_or_default();
        assert!(
            (median - 1_785_000.0).abs() <= 1_785_000.0 * RELATIVE_ERROR,
            "{median}"
        );
        assert_eq!(DurationSketch::default().percentile(0.5), None);
        let mut zero = DurationSketch::default();
        zero.add(Duration::zero());
        assert_eq!(zero.percentile(0.95), Some(Duration::zero()));
    }
}
