//! The timeline of a busy day in a real browser: the scale day of the project's event
//! generator (10,000 task runs of 50 services, with failures and deployments) mapped by the
//! handler's own code into the records the table holds, made into the report page, then
//! opened by headless Chromium. The page must stay under 1 MB, and the DOM Chromium parsed
//! must hold every failure: one line each in the failures list, each linked from its bar.
//! (The same day read from moto is `make bench`'s "questions at scale".)

mod support;

use chrono::Duration;
use ecs_audit::output::{Found, Zone};
use ecs_audit::report::{self, FAILED_COLOUR};
use ecs_audit_core::event::parse;
use ecs_audit_core::mapping::build;
use harness::synthetic::scale::{self, ScaleDay};
use support::TestResult;
use support::chromium::{browser, run_chromium};

const REGION: &str = "xx-test-1";
const MEGABYTE: usize = 1_000_000;

#[test]
fn a_ten_thousand_task_day_is_one_readable_page_under_a_megabyte() -> TestResult {
    let Some(chromium) = browser("a_ten_thousand_task_day_is_one_readable_page_under_a_megabyte")?
    else {
        return Ok(());
    };
    // GIVEN a busy day, as the table holds it
    let day = ScaleDay {
        tasks: 10_000,
        services: 50,
        seed: 1,
    };
    let events = scale::generate(day, "big", REGION);
    let mut found = Vec::with_capacity(events.len());
    for event in &events {
        found.push(Found {
            region: REGION.into(),
            record: build(&parse(event)?, 14)?,
        });
    }
    drop(events);
    let since = scale::day_start();
    let until = since + Duration::days(1) + Duration::hours(2);
    // WHEN its timeline is written
    let timeline = report::build(&found, "big", &[REGION.into()], since, until, until);
    let page = report::render_html(&timeline, &Zone::<chrono::Utc>::Utc);
    // THEN the page stays under a megabyte
    assert_eq!(timeline.task_count(), 10_000);
    assert!(page.len() < MEGABYTE, "{} bytes", page.len());
    assert_eq!(timeline.lanes.len(), 50);

    // WHEN Chromium parses it
    let work = tempfile::Builder::new()
        .prefix("ecs-audit-scale-")
        .tempdir()?;
    let path = work.path().join("day.html");
    std::fs::write(&path, &page)?;
    let dom = run_chromium(&chromium, work.path(), "--dump-dom", &path)?;
    // THEN every failure is a line of the failures list and a linked bar
    let failures = timeline.failures.len();
    assert!(failures > 100, "{failures} failures");
    assert_eq!(dom.matches("<tr class=\"failure\">").count(), failures);
    let failed_runs = timeline
        .lanes
        .iter()
        .flat_map(|lane| lane.layout.bars())
        .filter(|bar| report::pack::is_failure(bar))
        .count();
    assert_eq!(dom.matches("<a href=\"#f-").count(), failed_runs);
    assert!(dom.contains(&format!("fill=\"{FAILED_COLOUR}\"")));
    // AND each service has its summary line and its deployment band
    assert_eq!(dom.matches("class=\"lane-stats\"").count(), 50);
    assert!(dom.matches("class=\"deploy").count() >= 50);

    // AND a screenshot renders (the page loads in a browser window at that size)
    let shot = work.path().join("day.png");
    run_chromium(
        &chromium,
        work.path(),
        &format!("--screenshot={}", shot.display()),
        &path,
    )?;
    assert!(std::fs::metadata(&shot)?.len() > 10_000);
    Ok(())
}
