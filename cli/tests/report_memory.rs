//! The report's memory per task run: the scale day of the project's event generator mapped by
//! the handler's own code, fed one record at a time (newest first, as `ecs-audit report`
//! reads the cluster's index) into the timeline, then the page written, with a counting
//! allocator around it all. The timeline keeps a summary per run (the runs are packed into
//! rows at the end), so its memory grows with the runs; this bounds how much per run.

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

/// (held after the last record, peak while building and writing), in bytes above the start.
fn measure(tasks: usize) -> (usize, usize) {
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
    drop(page);
    drop(timeline);
    (held, peak)
}

/// Bytes per run the timeline may hold while records stream in, and at its peak (the bars
/// and the page written). Texts shared across runs and compact task keys keep it here; a
/// summary of owned strings per run held 800 and peaked at 815.
const HELD_PER_RUN: usize = 450;
const PEAK_PER_RUN: usize = 600;

#[test]
fn a_day_of_runs_is_held_in_a_few_hundred_bytes_a_run() {
    for tasks in [7_000, 14_000] {
        let (held, peak) = measure(tasks);
        println!(
            "{tasks} runs: {held} B held ({} B a run), {peak} B at the peak ({} B a run)",
            held / tasks,
            peak / tasks
        );
        assert!(
            held / tasks <= HELD_PER_RUN,
            "{} B a run held",
            held / tasks
        );
        assert!(
            peak / tasks <= PEAK_PER_RUN,
            "{} B a run at the peak",
            peak / tasks
        );
    }
}
