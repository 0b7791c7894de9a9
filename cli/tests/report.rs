//! The timeline report in a real browser: moto with the audit table in two regions seeded
//! through the handler's write path (the same scenario as `queries.rs`, plus a task still
//! running and one whose reason is hostile HTML), `ecs-audit report --html`, then Debian's
//! `chromium` in headless mode: a screenshot whose pixels must show bars in every colour and
//! the failures list, and the DOM it parsed, which must hold one row per failure and the
//! hostile text as text.
//!
//! Chromium is installed with `apt-get install -y chromium` when missing (`CHROMIUM=<path>`
//! names another binary). When there is none, or it cannot render the page, the test fails:
//! a report nobody saw render is not tested. Only an explicit `ECS_AUDIT_SKIP_BROWSER=1`
//! skips it (saying why), for a machine that cannot run a browser; CI never sets it.

mod support;

use std::fs::File;
use std::path::Path;

use chrono::{Duration as Minutes, SecondsFormat};
use ecs_audit::report::{
    FAILED_COLOUR, FAILURE_ROW_COLOUR, INTERRUPTED_COLOUR, OK_COLOUR, RUNNING_COLOUR,
};
use serde_json::{Value, json};
use support::chromium::{browser, run_chromium};
use support::*;

const TASK_RUNNING: &str = "5a5a5a5a5a5a4a5a8a5a5a5a5a5a5a01";
const TASK_HOSTILE: &str = "6b6b6b6b6b6b4b6b8b6b6b6b6b6b6b02";
const HOSTILE_REASON: &str =
    "CannotPullContainerError: <img src=x onerror=\"document.title='pwned'\"> & <b>bold</b>";
/// Failures the report must list: the seeded scenario's within two hours, and the hostile one.
const FAILURES: usize = FIRST_REGION_FAILURES + SECOND_REGION_FAILURES + 1;

fn rgb(hex: &str) -> [u8; 3] {
    let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).unwrap();
    [channel(1), channel(3), channel(5)]
}

/// A decoded screenshot: width, height and RGB pixels.
struct Screenshot {
    width: usize,
    height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Screenshot {
    fn load(path: &Path) -> TestResult<Self> {
        let file = File::open(path).map_err(|error| {
            format!(
                "chromium rendered no screenshot at {}: {error}",
                path.display()
            )
        })?;
        let decoder = png::Decoder::new(file);
        let mut reader = decoder.read_info()?;
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer)?;
        assert_eq!(info.bit_depth, png::BitDepth::Eight, "{info:?}");
        let samples = info.color_type.samples();
        assert!(samples >= 3, "not a colour image: {info:?}");
        let pixels = buffer[..info.buffer_size()]
            .chunks_exact(samples)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Screenshot {
            width: info.width as usize,
            height: info.height as usize,
            pixels,
        })
    }

    /// Pixels within a small distance of `hex`, and the rows holding at least `min_per_row`
    /// of them (anti-aliased edges of other shapes blend into a few such pixels).
    fn count(&self, hex: &str, min_per_row: usize) -> (usize, Vec<usize>) {
        let want = rgb(hex);
        let mut per_row = vec![0usize; self.height];
        for (index, pixel) in self.pixels.iter().enumerate() {
            let close = pixel
                .iter()
                .zip(want)
                .all(|(have, want)| have.abs_diff(want) <= 4);
            if close {
                per_row[index / self.width] += 1;
            }
        }
        let rows = (0..self.height)
            .filter(|row| per_row[*row] >= min_per_row)
            .collect();
        (per_row.iter().sum(), rows)
    }
}

/// A task event of the first region, written through the handler's write path.
async fn record_extra_events(stack: &Stack) -> TestResult {
    let region = stack.first_region();
    let cluster_arn = format!("arn:aws:ecs:{region}:{ACCOUNT}:cluster/{CLUSTER}");
    let at = |minutes: i64| {
        (stack.now - Minutes::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Millis, true)
    };
    let event = |id: &str, version: u64, minutes: i64, detail: Value| {
        let arn = stack.task_arn(region, id);
        let mut full = json!({
            "taskArn": arn,
            "clusterArn": cluster_arn,
            "taskDefinitionArn": format!("arn:aws:ecs:{region}:{ACCOUNT}:task-definition/web:42"),
            "group": "service:web",
            "launchType": "FARGATE",
            "version": version,
            "updatedAt": at(minutes),
        });
        if let (Value::Object(full), Value::Object(detail)) = (&mut full, detail) {
            full.extend(detail);
        }
        json!({
            "version": "0",
            "id": format!("report-test-{id}-{version}"),
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": at(minutes),
            "region": region,
            "resources": [arn],
            "detail": full,
        })
    };
    let events = [
        event(
            TASK_RUNNING,
            3,
            35,
            json!({"lastStatus": "RUNNING", "desiredStatus": "RUNNING",
                   "createdAt": at(37), "startedAt": at(35)}),
        ),
        event(
            TASK_HOSTILE,
            2,
            15,
            json!({"lastStatus": "STOPPED", "desiredStatus": "STOPPED", "createdAt": at(25),
                   "stoppedAt": at(15), "stopCode": "TaskFailedToStart", "stoppedReason": HOSTILE_REASON,
                   "containers": [{"name": "<b>app</b>", "lastStatus": "STOPPED"}]}),
        ),
    ];
    stack.record(region, &events).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_renders_bars_and_failures_in_chromium() -> TestResult {
    let Some(chromium) = browser("the_report_renders_bars_and_failures_in_chromium")? else {
        return Ok(());
    };

    // GIVEN the audit table in two regions with a morning of events, a running task among them
    let stack = Stack::start().await?;
    record_extra_events(&stack).await?;
    let work = tempfile::Builder::new()
        .prefix("ecs-audit-report-")
        .tempdir()?;
    let page = work.path().join("report.html");

    let page_arg = page.display().to_string();
    // The report of the last two hours of every region, written to `target` (`-`: stdout).
    let report_to = |target: &str| {
        stack.ecs_audit(&[
            "--env",
            "local",
            "--all-regions",
            "report",
            "--cluster",
            CLUSTER,
            "--since",
            "2h",
            "--html",
            target,
        ])
    };
    // WHEN the report of the last two hours of every region is written
    let run = report_to(&page_arg)?;
    assert_eq!(run.code, 0, "{run:?}");
    // THEN it says what it wrote in one line
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.starts_with(&format!("wrote {page_arg}: ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{FAILURES} failures")),
        "{}",
        run.stdout
    );
    let html = std::fs::read_to_string(&page)?;
    // AND the page needs nothing from elsewhere
    for external in [
        "<img", "<link", "<script", "<iframe", "<object", "<embed", "url(", "@import",
    ] {
        assert!(!html.contains(external), "the page has {external}");
    }

    // WHEN Chromium renders it
    let screenshot_path = work.path().join("report.png");
    run_chromium(
        &chromium,
        work.path(),
        &format!("--screenshot={}", screenshot_path.display()),
        &page,
    )?;
    let screenshot = Screenshot::load(&screenshot_path)?;
    if let Some(keep) = std::env::var_os("REPORT_SCREENSHOT") {
        std::fs::copy(&screenshot_path, keep)?;
    }
    assert_eq!((screenshot.width, screenshot.height), (1400, 900));

    // THEN bars of every colour are drawn: more pixels than the legend's 12×12 swatch,
    // on more rows than one
    for (what, colour) in [
        ("stopped normally", OK_COLOUR),
        ("failed", FAILED_COLOUR),
        ("Spot-interrupted", INTERRUPTED_COLOUR),
        ("still running", RUNNING_COLOUR),
    ] {
        let (pixels, rows) = screenshot.count(colour, 3);
        assert!(
            pixels > 400 && rows.len() > 12,
            "{what} bars ({colour}): {pixels} pixels on {} rows",
            rows.len()
        );
    }
    // AND the failures list is on screen below the bars: its rows' background, wide rows
    // under the lowest bar
    let (background, rows) = screenshot.count(FAILURE_ROW_COLOUR, 400);
    let (_, bar_rows) = screenshot.count(RUNNING_COLOUR, 3);
    assert!(
        background > 20_000,
        "failure rows ({FAILURE_ROW_COLOUR}): {background} pixels"
    );
    let first_failure_row = rows.first().copied().unwrap_or_default();
    assert!(
        first_failure_row > bar_rows.last().copied().unwrap_or_default(),
        "the failures list (from y={first_failure_row}) is not below the bars"
    );

    // WHEN Chromium's parsed DOM is dumped
    let dom = run_chromium(&chromium, work.path(), "--dump-dom", &page)?;
    // THEN it holds one row per failure, each explained
    assert_eq!(
        dom.matches("<tr class=\"failure\">").count(),
        FAILURES,
        "{dom}"
    );
    assert!(dom.contains(&format!("<h2>Failures ({FAILURES})</h2>")));
    for expected in [
        "EssentialContainerExited",
        "SpotInterruption",
        "TaskFailedToStart",
        "SERVICE_TASK_PLACEMENT_FAILURE",
        "Out of memory: essential container app was killed with SIGKILL (exit 137)",
        "image could not be pulled",
        "No container instance had enough free memory",
    ] {
        assert!(dom.contains(expected), "no {expected:?} in the DOM");
    }
    // AND the hostile reason stayed text: no element was made of it
    assert!(dom.contains("&lt;img src=x onerror="), "{dom}");
    assert!(!dom.contains("<img"), "an <img> element was injected");
    assert!(!dom.contains("<b>"), "a <b> element was injected");
    assert!(dom.contains("<title>ECS timeline: cluster prod</title>"));
    // AND bars of the running and the interrupted task are in the DOM with their tooltips
    assert!(dom.contains(&format!("task {TASK_RUNNING}")));
    assert!(dom.contains(&format!("task {TASK_SPOT}")));

    // WHEN the page goes to standard output instead THEN it is the same page
    let run = report_to("-")?;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        run.stdout.matches("<tr class=\"failure\">").count(),
        FAILURES
    );
    Ok(())
}

#[test]
fn a_report_needs_a_cluster_and_a_file() -> TestResult {
    let run = ecs_audit(
        None,
        false,
        &["report", "--since", "1d", "--html", "x.html"],
    )?;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--cluster"), "{}", run.stderr);
    let run = ecs_audit(None, false, &["report", "--cluster", "prod"])?;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--html"), "{}", run.stderr);
    Ok(())
}
