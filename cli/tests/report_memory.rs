//! The report's memory does not grow with the runs: the scale day of the project's event
//! generator mapped by the handler's own code, fed one record at a time (newest first, as
//! `ecs-audit report` reads the cluster's index) into the timeline, then the page written,
//! with a counting allocator around it all, for a day and the same day with twice the runs.
//! The timeline keeps what the page draws and the runs open at once; of that, only the
//! failures (every one is listed and drawn) grow with the runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use ecs_audit::output::{Found, Zone};
use ecs_audit::report::{self, TimelineBuilder};
use ecs_audit_core::event::parse;
use ecs_audit_core::mapping::build;
use harness::synthetic::scale::{self, ScaleDay};

/// Counts the bytes the process holds and the most it held: this binary's one test is the
/// only thing allocating while it measures.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const REGION: &str = "xx-test-1";

/// What one day took, in bytes above the start.
struct Measured {
    /// Held after the last record.
    held: usize,
    /// The most held while building and writing the page.
    peak: usize,
    failures: usize,
}

fn measure(tasks: usize) -> Measured {
    let day = ScaleDay {
        tasks,
        services: 50,
        seed: 1,
    };
    let events = scale::generate(day, "day", REGION);
    let since = scale::day_start();
    let until = since + Duration::days(1) + Duration::hours(2);
    let regions = [REGION.to_string()];
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut builder = TimelineBuilder::new("day", &regions, since, until, until);
    // newest first, as the cluster-time index answers; each record dropped once added
    for event in events.iter().rev() {
        let record = build(&parse(event).expect("a generated event"), 14).expect("its record");
        builder.add(&Found {
            region: REGION.into(),
            record,
        });
    }
    let held = LIVE.load(Ordering::Relaxed) - base;
    let timeline = builder.finish();
    let page = report::render_html(&timeline, &Zone::<chrono::Utc>::Utc);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let failures = timeline.failures.len();
    drop(page);
    drop(timeline);
    Measured {
        held,
        peak,
        failures,
    }
}

/// What one more failure may add: its line of the list (with the key that counts it once),
/// its bar, and their text on the page. Anything else growing with the runs fails the test.
const HELD_PER_FAILURE: usize = 1_500;
const PEAK_PER_FAILURE: usize = 2_500;

#[test]
fn doubling_the_runs_adds_only_the_new_failures() {
    let day = measure(7_000);
    let twice = measure(14_000);
    let more_failures = twice.failures - day.failures;
    for (what, one, two, per_failure) in [
        ("held", day.held, twice.held, HELD_PER_FAILURE),
        ("peak", day.peak, twice.peak, PEAK_PER_FAILURE),
    ] {
        println!(
            "{what}: {one} B for 7,000 runs ({} failures), {two} B for 14,000 ({}): {} B a new failure",
            day.failures,
            twice.failures,
            two.saturating_sub(one) / more_failures.max(1)
        );
        assert!(
            two.saturating_sub(one) <= more_failures * per_failure,
            "{what}: {one} B, then {two} B with {more_failures} more failures"
        );
    }
}
