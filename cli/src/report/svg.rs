//! The timeline chart: one inline SVG, a band per lane with its runs as bars in packed rows
//! ([`pack`]), service events as marks, deployments as shaded spans. Written with `maud`, so
//! every text from the table (task ids, reasons, names) is escaped by construction. SVG
//! elements are closed explicitly (`<rect ...></rect>`): in HTML, an SVG element written
//! without `/>` or an end tag would hold everything after it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Display;

use chrono::{DateTime, Duration, TimeZone, Utc};
use maud::{Markup, html};

use super::pack::{self, LaneLayout};
use super::stats::short_duration;
use super::times::{full_time, time_text};
use super::{Ending, Lane, OK_COLOUR, TaskBar, Timeline};
use crate::output::Zone;

const WIDTH: f64 = 1320.0;
const LABEL_WIDTH: f64 = 340.0;
const PLOT_LEFT: f64 = LABEL_WIDTH + 10.0;
const PLOT_RIGHT: f64 = WIDTH - 20.0;
const AXIS_HEIGHT: f64 = 30.0;
const LANE_HEIGHT: f64 = 26.0;
const ROW_HEIGHT: f64 = 20.0;
const BAR_HEIGHT: f64 = 12.0;
const MIN_BAR_WIDTH: f64 = 3.0;

/// Tick spacing: the smallest step giving at most 12 ticks.
pub(super) fn tick_step(span: Duration) -> Duration {
    let steps = [
        1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080,
    ];
    steps
        .iter()
        .map(|minutes| Duration::minutes(*minutes))
        .find(|step| span.num_seconds() / step.num_seconds().max(1) <= 12)
        .unwrap_or(Duration::days(14))
}

/// A coordinate as the chart writes it: one decimal.
fn at(value: f64) -> String {
    format!("{value:.1}")
}

struct Scale {
    since: DateTime<Utc>,
    seconds: f64,
}

impl Scale {
    fn x(&self, time: DateTime<Utc>) -> f64 {
        let offset = (time - self.since).num_milliseconds() as f64 / 1000.0;
        let fraction = (offset / self.seconds).clamp(0.0, 1.0);
        PLOT_LEFT + fraction * (PLOT_RIGHT - PLOT_LEFT)
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// Each failed task's row in the failures list (its first), by region and task id.
fn failure_links(timeline: &Timeline) -> HashMap<(&str, &str), usize> {
    let mut links = HashMap::new();
    for (index, failure) in timeline.failures.iter().enumerate() {
        links
            .entry((failure.region.as_str(), failure.task.as_str()))
            .or_insert(index);
    }
    links
}

/// `212 runs · 3 failed · median 7m05s · p95 21m10s · 08:00 → 23:41`.
fn lane_summary<Tz: TimeZone>(lane: &Lane, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let stats = &lane.stats;
    let mut parts = Vec::new();
    if stats.runs > 0 {
        parts.push(match stats.runs {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        });
        parts.push(format!("{} failed", stats.failures));
    }
    if let (Some(median), Some(p95)) = (stats.median(), stats.p95()) {
        parts.push(format!(
            "median {} · p95 {}",
            short_duration(median),
            short_duration(p95)
        ));
    }
    if let (Some(first), Some(last)) = (stats.first, stats.last) {
        parts.push(format!(
            "{} → {}",
            time_text(first, zone, "%H:%M"),
            time_text(last, zone, "%H:%M")
        ));
    }
    if !lane.deployments.is_empty() {
        parts.push(match lane.deployments.len() {
            1 => "1 deployment".to_string(),
            n => format!("{n} deployments"),
        });
    }
    parts.join(" · ")
}

/// A run's tooltip: what ran, how it ended, its times and reasons. A routine run's times
/// to the second (the page names the day and zone), a failure's (`linked`) in full.
fn bar_title<Tz: TimeZone>(task: &TaskBar, zone: &Zone<Tz>, linked: bool) -> String
where
    Tz::Offset: Display,
{
    let time = |at: DateTime<Utc>| {
        if linked {
            full_time(at, zone)
        } else {
            time_text(at, zone, "%H:%M:%S")
        }
    };
    let mut lines = vec![match &task.definition {
        Some(definition) => format!("task {} ({definition})", task.task_id),
        None => format!("task {}", task.task_id),
    }];
    lines.push(format!("{}: {}", task.ending.label(), task.last_status));
    lines.push(format!("created {}", time(task.created)));
    if let Some(started) = task.started {
        lines.push(format!("started {}", time(started)));
    }
    if task.ending != Ending::Running {
        lines.push(format!("stopped {}", time(task.end)));
    }
    for (label, value) in [
        ("stop code", &task.stop_code),
        ("exit codes", &task.exit_codes),
        ("reason", &task.reason),
    ] {
        if let Some(value) = value {
            lines.push(format!("{label}: {value}"));
        }
    }
    lines.join("\n")
}

/// One run's bar with its tooltip; a failure's links to its row in the failures list.
fn bar<Tz: TimeZone>(
    task: &TaskBar,
    y: f64,
    scale: &Scale,
    zone: &Zone<Tz>,
    link: Option<usize>,
) -> Markup
where
    Tz::Offset: Display,
{
    let bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2.0;
    let x_created = scale.x(task.created);
    let x_end = scale.x(task.end).max(x_created + MIN_BAR_WIDTH);
    let x_started = task
        .started
        .map(|started| scale.x(started).clamp(x_created, x_end))
        .unwrap_or(x_created);
    let colour = task.ending.colour();
    let rects = html! {
        @if x_started > x_created {
            rect class="bar starting" x=(at(x_created)) y=(at(bar_y)) width=(at(x_started - x_created))
                height=(BAR_HEIGHT) fill=(colour) {}
        }
        rect class="bar" x=(at(x_started)) y=(at(bar_y)) width=(at((x_end - x_started).max(2.0)))
            height=(BAR_HEIGHT) fill=(colour) {}
    };
    html! {
        g class={ "task " (task.ending.class()) } {
            title { (bar_title(task, zone, link.is_some())) }
            @if let Some(row) = link {
                a href={ "#f-" (row) } { (rects) }
            } @else {
                (rects)
            }
        }
    }
}

/// The time axis: a grid line and a label per tick (the first of each day names the day),
/// and a dashed line at now when it falls inside the window.
fn axis<Tz: TimeZone>(timeline: &Timeline, scale: &Scale, height: f64, zone: &Zone<Tz>) -> Markup
where
    Tz::Offset: Display,
{
    let span = (timeline.until - timeline.since).max(Duration::seconds(1));
    let step = tick_step(span);
    let step_seconds = step.num_seconds().max(1);
    let first_tick = timeline.since.timestamp().div_euclid(step_seconds) * step_seconds
        + if timeline.since.timestamp() % step_seconds == 0 {
            0
        } else {
            step_seconds
        };
    let mut ticks = Vec::new();
    let mut tick = DateTime::<Utc>::from_timestamp(first_tick, 0);
    let mut last_day = String::new();
    while let Some(time) = tick.filter(|time| *time <= timeline.until) {
        let day = time_text(time, zone, "%m-%d");
        let label = if day != last_day {
            last_day = day;
            time_text(time, zone, "%m-%d %H:%M")
        } else {
            time_text(time, zone, "%H:%M")
        };
        ticks.push((at(scale.x(time)), label));
        tick = time.checked_add_signed(step);
    }
    let now = (timeline.now > timeline.since && timeline.now < timeline.until)
        .then(|| at(scale.x(timeline.now)));
    html! {
        @for (x, label) in &ticks {
            line class="grid" x1=(x) y1=(AXIS_HEIGHT) x2=(x) y2=(height) {}
            text class="tick" x=(x) y=(AXIS_HEIGHT - 10.0) text-anchor="middle" { (label) }
        }
        @if let Some(x) = now {
            line class="now" x1=(x) y1=(AXIS_HEIGHT) x2=(x) y2=(height) { title { "now" } }
        }
    }
}

/// A lane's band: its name and numbers, deployments behind, service events as marks (the
/// routine ones beyond [`pack::MARKER_CAP`] counted).
fn lane_band<Tz: TimeZone>(
    lane: &Lane,
    name: &str,
    top: f64,
    lane_height: f64,
    scale: &Scale,
    until: DateTime<Utc>,
    zone: &Zone<Tz>,
) -> Markup
where
    Tz::Offset: Display,
{
    html! {
        g class="lane" {
            rect class="lane-band" x="0" y=(top) width=(WIDTH) height=(LANE_HEIGHT) {}
            text class="lane-name" x="8" y=(at(top + 17.0)) { (clip(name, 44)) }
            text class="lane-stats" x=(PLOT_LEFT) y=(at(top + 17.0)) { (lane_summary(lane, zone)) }
            @for deployment in &lane.deployments {
                @let x = scale.x(deployment.start);
                @let x_end = scale.x(deployment.end.unwrap_or(until)).max(x + 2.0);
                rect class=(if deployment.failed { "deploy deploy-failed" } else { "deploy" })
                    x=(at(x)) y=(top) width=(at(x_end - x)) height=(lane_height) {
                    title {
                        "deployment " (deployment.id) ": " (full_time(deployment.start, zone)) " → "
                        (deployment.end.map(|end| full_time(end, zone)).unwrap_or_else(|| "in progress".into()))
                        ", " (deployment.state)
                    }
                }
            }
            @for marker in &lane.markers {
                @let x = scale.x(marker.time);
                @let cy = top + LANE_HEIGHT / 2.0;
                path class=(if marker.failed { "mark mark-failed" } else { "mark" })
                    d={ "M" (at(x)) " " (at(cy - 6.0)) " l5 6 l-5 6 l-5 -6 z" } {
                    title {
                        (full_time(marker.time, zone)) " " (marker.name)
                        @if let Some(reason) = &marker.reason { ": " (reason) }
                    }
                }
            }
            @if lane.more_markers > 0 {
                text class="folded" x=(at(PLOT_RIGHT)) y=(at(top + 17.0)) text-anchor="end" {
                    "+" (lane.more_markers) " service events"
                }
            }
        }
    }
}

/// The routine runs folded into one band: an area whose height at each column is how many
/// of them were alive there.
fn density(layout: &LaneLayout, y: f64) -> Markup {
    let peak = layout.density.iter().copied().max().unwrap_or(1).max(1);
    let column = (PLOT_RIGHT - PLOT_LEFT) / pack::DENSITY_BUCKETS as f64;
    let base = y + (ROW_HEIGHT + BAR_HEIGHT) / 2.0;
    let mut d = format!("M{PLOT_LEFT:.1} {base:.1}");
    for (index, count) in layout.density.iter().enumerate() {
        let top = base - BAR_HEIGHT * *count as f64 / peak as f64;
        d.push_str(&format!(
            "V{top:.1}H{:.1}",
            PLOT_LEFT + (index + 1) as f64 * column
        ));
    }
    d.push_str(&format!("V{base:.1}z"));
    html! {
        g class="density" {
            text class="row-name" x="20" y=(at(y + 14.0)) { "+" (layout.folded) " more runs (density)" }
            title {
                (layout.folded) " routine runs folded: the darker, the more ran at once (at most "
                (peak) ")"
            }
            path d=(d) fill=(OK_COLOUR) fill-opacity="0.45" {}
        }
    }
}

/// The whole chart.
pub(super) fn svg<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> Markup
where
    Tz::Offset: Display,
{
    let span = (timeline.until - timeline.since).max(Duration::seconds(1));
    let scale = Scale {
        since: timeline.since,
        seconds: span.num_milliseconds() as f64 / 1000.0,
    };
    let multi_region = timeline
        .lanes
        .iter()
        .map(|lane| &lane.region)
        .collect::<BTreeSet<_>>()
        .len()
        > 1;
    let layouts: Vec<&LaneLayout> = timeline.lanes.iter().map(|lane| &lane.layout).collect();
    let links = failure_links(timeline);
    let rows: usize = layouts
        .iter()
        .map(|layout| layout.failure_rows.len() + layout.routine_rows.len())
        .sum();
    let bands = layouts.iter().filter(|layout| layout.folded > 0).count();
    let height = AXIS_HEIGHT
        + timeline.lanes.len() as f64 * LANE_HEIGHT
        + rows as f64 * ROW_HEIGHT
        + bands as f64 * ROW_HEIGHT
        + 10.0;

    let mut lanes = Vec::with_capacity(timeline.lanes.len());
    let mut y = AXIS_HEIGHT;
    for (lane, layout) in timeline.lanes.iter().zip(layouts.iter().copied()) {
        let lane_height = LANE_HEIGHT
            + (layout.failure_rows.len()
                + layout.routine_rows.len()
                + usize::from(layout.folded > 0)) as f64
                * ROW_HEIGHT;
        let name = if multi_region {
            format!("{} · {}", lane.name, lane.region)
        } else {
            lane.name.clone()
        };
        lanes.push(lane_band(
            lane,
            &name,
            y,
            lane_height,
            &scale,
            timeline.until,
            zone,
        ));
        y += LANE_HEIGHT;
        let groups = [
            ("failed runs", &layout.failure_rows),
            ("runs", &layout.routine_rows),
        ];
        for (label, rows) in groups {
            let count: usize = rows.iter().map(Vec::len).sum();
            for (index, row) in rows.iter().enumerate() {
                lanes.push(html! {
                    @if index == 0 {
                        text class="row-name" x="20" y=(at(y + 14.0)) { (label) " (" (count) ")" }
                    }
                    @for task in row {
                        (bar(task, y, &scale, zone,
                            links.get(&(&*task.region, task.task_id.as_str())).copied()))
                    }
                });
                y += ROW_HEIGHT;
            }
        }
        if layout.folded > 0 {
            lanes.push(density(layout, y));
            y += ROW_HEIGHT;
        }
    }
    html! {
        svg class="timeline" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label="task timeline" {
            (axis(timeline, &scale, height, zone))
            @for lane in lanes { (lane) }
        }
    }
}
