//! A lane's one-line numbers, kept as its runs arrive: runs, failures and how each ended,
//! first and last exactly; the median and p95 duration from a bounded sketch
//! ([`DurationSketch`], within [`RELATIVE_ERROR`]). Pure.

use chrono::{DateTime, Duration, Utc};

use super::pack::is_failure;
use super::sketch::DurationSketch;
pub use super::sketch::RELATIVE_ERROR;
use super::{Ending, TaskBar};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LaneStats {
    pub runs: usize,
    pub failures: usize,
    /// Runs per [`Ending`], in the order of [`Ending::ALL`].
    pub endings: [usize; 4],
    /// Of finished runs, created to stopped.
    durations: DurationSketch,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

impl LaneStats {
    pub fn add(&mut self, bar: &TaskBar) {
        self.runs += 1;
        self.failures += usize::from(is_failure(bar));
        if let Some(index) = Ending::ALL.iter().position(|ending| *ending == bar.ending) {
            self.endings[index] += 1;
        }
        if bar.ending != Ending::Running {
            self.durations.add(bar.end - bar.created);
        }
        self.first = Some(
            self.first
                .map_or(bar.created, |first| first.min(bar.created)),
        );
        self.last = Some(self.last.map_or(bar.end, |last| last.max(bar.end)));
    }

    pub fn count(&self, ending: Ending) -> usize {
        Ending::ALL
            .iter()
            .position(|each| *each == ending)
            .map_or(0, |index| self.endings[index])
    }

    pub fn median(&self) -> Option<Duration> {
        self.durations.percentile(0.5)
    }

    pub fn p95(&self) -> Option<Duration> {
        self.durations.percentile(0.95)
    }
}

/// `42s`, `7m05s`, `2h03m`.
pub fn short_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(Duration::seconds(42)), "42s");
        assert_eq!(short_duration(Duration::seconds(425)), "7m05s");
        assert_eq!(short_duration(Duration::seconds(7380)), "2h03m");
    }
}
