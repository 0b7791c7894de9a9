//! The page: one self-contained HTML document (inline CSS and SVG, no script). Every
//! string from the table is escaped ([`escape`]): events are untrusted input.

use std::fmt::{Display, Write as _};

use chrono::{DateTime, Duration, TimeZone, Utc};

use std::collections::HashMap;

use super::pack::{self, LaneLayout};
use super::*;
use crate::output::{self, Zone};

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

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

fn time_text<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>, format: &str) -> String
where
    Tz::Offset: Display,
{
    match zone {
        Zone::Utc => time.format(format).to_string(),
        Zone::Local(tz) => time.with_timezone(tz).format(format).to_string(),
    }
}

fn full_time<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    output::show_time(&ecs_audit_core::text::format_time(time), zone)
}

fn short_id(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
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
    let stats = pack::stats(lane);
    let mut parts = Vec::new();
    if stats.runs > 0 {
        parts.push(match stats.runs {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        });
        parts.push(format!("{} failed", stats.failures));
    }
    if let (Some(median), Some(p95)) = (stats.median, stats.p95) {
        parts.push(format!(
            "median {} · p95 {}",
            pack::short_duration(median),
            pack::short_duration(p95)
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

/// One run's bar with its tooltip; a failure's links to its row in the failures list.
fn bar<Tz: TimeZone>(
    task: &TaskBar,
    y: f64,
    scale: &Scale,
    zone: &Zone<Tz>,
    link: Option<usize>,
) -> String
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
    let mut title = format!("task {}", task.task_id);
    if let Some(definition) = &task.definition {
        let _ = write!(title, " ({definition})");
    }
    // a routine run's times to the second (the page names the day and zone), a failure's in full
    let time = |at: DateTime<Utc>| match link {
        Some(_) => full_time(at, zone),
        None => time_text(at, zone, "%H:%M:%S"),
    };
    let _ = write!(
        title,
        "\n{}: {}\ncreated {}",
        task.ending.label(),
        task.last_status,
        time(task.created)
    );
    if let Some(started) = task.started {
        let _ = write!(title, "\nstarted {}", time(started));
    }
    if task.ending != Ending::Running {
        let _ = write!(title, "\nstopped {}", time(task.end));
    }
    for (label, value) in [
        ("stop code", &task.stop_code),
        ("exit codes", &task.exit_codes),
        ("reason", &task.reason),
    ] {
        if let Some(value) = value {
            let _ = write!(title, "\n{label}: {value}");
        }
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<g class="task {}"><title>{}</title>"#,
        task.ending.class(),
        escape(&title)
    );
    if let Some(row) = link {
        let _ = write!(s, "<a href=\"#f-{row}\">");
    }
    if x_started > x_created {
        let _ = write!(
            s,
            r#"<rect class="bar starting" x="{x_created:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/>"#,
            x_started - x_created,
            task.ending.colour()
        );
    }
    let _ = write!(
        s,
        r#"<rect class="bar" x="{x_started:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/>"#,
        (x_end - x_started).max(2.0),
        task.ending.colour()
    );
    if link.is_some() {
        s.push_str("</a>");
    }
    s.push_str("</g>");
    s
}

fn svg<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> String
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
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    let layouts: Vec<LaneLayout> = timeline
        .lanes
        .iter()
        .map(|lane| pack::layout(lane, timeline.since, timeline.until))
        .collect();
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
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="task timeline">"#
    );

    // time axis and grid
    let step = tick_step(span);
    let step_seconds = step.num_seconds().max(1);
    let first_tick = timeline.since.timestamp().div_euclid(step_seconds) * step_seconds
        + if timeline.since.timestamp() % step_seconds == 0 {
            0
        } else {
            step_seconds
        };
    let mut tick = DateTime::<Utc>::from_timestamp(first_tick, 0);
    let mut last_day = String::new();
    while let Some(time) = tick.filter(|time| *time <= timeline.until) {
        let x = scale.x(time);
        let day = time_text(time, zone, "%m-%d");
        let label = if day != last_day {
            last_day = day;
            time_text(time, zone, "%m-%d %H:%M")
        } else {
            time_text(time, zone, "%H:%M")
        };
        let _ = write!(
            s,
            r#"<line class="grid" x1="{x:.1}" y1="{AXIS_HEIGHT}" x2="{x:.1}" y2="{height}"/><text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            AXIS_HEIGHT - 10.0,
            escape(&label)
        );
        tick = time.checked_add_signed(step);
    }
    if timeline.now > timeline.since && timeline.now < timeline.until {
        let x = scale.x(timeline.now);
        let _ = write!(
            s,
            r#"<line class="now" x1="{x:.1}" y1="{AXIS_HEIGHT}" x2="{x:.1}" y2="{height}"><title>now</title></line>"#
        );
    }

    let mut y = AXIS_HEIGHT;
    for (lane, layout) in timeline.lanes.iter().zip(&layouts) {
        let top = y;
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
        let _ = write!(
            s,
            r#"<g class="lane"><rect class="lane-band" x="0" y="{y}" width="{WIDTH}" height="{LANE_HEIGHT}"/><text class="lane-name" x="8" y="{:.1}">{}</text><text class="lane-stats" x="{PLOT_LEFT}" y="{:.1}">{}</text>"#,
            y + 17.0,
            escape(&clip(&name, 44)),
            y + 17.0,
            escape(&lane_summary(lane, zone))
        );
        // deployments: bands behind the lane's runs
        for deployment in &lane.deployments {
            let x = scale.x(deployment.start);
            let x_end = scale
                .x(deployment.end.unwrap_or(timeline.until))
                .max(x + 2.0);
            let class = if deployment.failed {
                "deploy deploy-failed"
            } else {
                "deploy"
            };
            let title = format!(
                "deployment {}: {} → {}, {}",
                deployment.id,
                full_time(deployment.start, zone),
                deployment
                    .end
                    .map(|end| full_time(end, zone))
                    .unwrap_or_else(|| "in progress".into()),
                deployment.state
            );
            let _ = write!(
                s,
                r#"<rect class="{class}" x="{x:.1}" y="{top}" width="{:.1}" height="{lane_height}"><title>{}</title></rect>"#,
                x_end - x,
                escape(&title)
            );
        }
        let routine_markers = lane.markers.iter().filter(|marker| !marker.failed).count();
        let mut routine_drawn = 0;
        for marker in &lane.markers {
            if !marker.failed {
                if routine_drawn >= pack::MARKER_CAP {
                    continue;
                }
                routine_drawn += 1;
            }
            let x = scale.x(marker.time);
            let cy = y + LANE_HEIGHT / 2.0;
            let class = if marker.failed {
                "mark mark-failed"
            } else {
                "mark"
            };
            let mut title = format!("{} {}", full_time(marker.time, zone), marker.name);
            if let Some(reason) = &marker.reason {
                title.push_str(": ");
                title.push_str(reason);
            }
            let _ = write!(
                s,
                r#"<path class="{class}" d="M{x:.1} {:.1} l5 6 l-5 6 l-5 -6 z"><title>{}</title></path>"#,
                cy - 6.0,
                escape(&title)
            );
        }
        if routine_markers > routine_drawn {
            let _ = write!(
                s,
                r#"<text class="folded" x="{:.1}" y="{:.1}" text-anchor="end">+{} service events</text>"#,
                PLOT_RIGHT,
                y + 17.0,
                routine_markers - routine_drawn
            );
        }
        s.push_str("</g>");
        y += LANE_HEIGHT;

        let groups = [
            ("failed runs", &layout.failure_rows),
            ("runs", &layout.routine_rows),
        ];
        for (label, rows) in groups {
            for (index, row) in rows.iter().enumerate() {
                if index == 0 {
                    let count: usize = rows.iter().map(Vec::len).sum();
                    let _ = write!(
                        s,
                        r#"<text class="row-name" x="20" y="{:.1}">{label} ({count})</text>"#,
                        y + 14.0
                    );
                }
                for task in row {
                    let link = links.get(&(task.region.as_str(), task.task_id.as_str()));
                    s.push_str(&bar(task, y, &scale, zone, link.copied()));
                }
                y += ROW_HEIGHT;
            }
        }
        if layout.folded > 0 {
            let peak = layout.density.iter().copied().max().unwrap_or(1).max(1);
            let _ = write!(
                s,
                r#"<g class="density"><text class="row-name" x="20" y="{:.1}">+{} more runs (density)</text><title>{} routine runs folded: the darker, the more ran at once (at most {peak})</title>"#,
                y + 14.0,
                layout.folded,
                layout.folded
            );
            // one area: a column's height is how many folded runs were alive in it
            let column = (PLOT_RIGHT - PLOT_LEFT) / pack::DENSITY_BUCKETS as f64;
            let base = y + (ROW_HEIGHT + BAR_HEIGHT) / 2.0;
            let mut d = format!("M{PLOT_LEFT:.1} {base:.1}");
            for (index, count) in layout.density.iter().enumerate() {
                let top = base - BAR_HEIGHT * *count as f64 / peak as f64;
                let _ = write!(
                    d,
                    "V{top:.1}H{:.1}",
                    PLOT_LEFT + (index + 1) as f64 * column
                );
            }
            let _ = write!(
                s,
                r#"<path d="{d}V{base:.1}z" fill="{OK_COLOUR}" fill-opacity="0.45"/>"#
            );
            s.push_str("</g>");
            y += ROW_HEIGHT;
        }
    }
    s.push_str("</svg>");
    s
}

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328; margin: 24px; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin: 0 0 12px; }
.legend { display: flex; gap: 18px; flex-wrap: wrap; margin: 8px 0 12px; color: #3d444d; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.swatch.pale { opacity: 0.35; }
.diamond { display: inline-block; width: 9px; height: 9px; transform: rotate(45deg); background: #8c959f; }
.diamond.failed { background: #c92a2a; }
.scroll { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; }
svg.timeline { display: block; font-size: 12px; }
svg .lane-band { fill: #f3f5f7; }
svg .lane-name { font-weight: 600; fill: #1f2328; }
svg .task-name { fill: #3d444d; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .now { stroke: #6e7781; stroke-width: 1; stroke-dasharray: 4 3; }
svg .tick { fill: #57606a; font-size: 11px; }
svg .bar.starting { opacity: 0.35; }
svg .mark { fill: #8c959f; }
svg .mark-failed { fill: #c92a2a; }
svg .lane-stats, svg .folded { fill: #57606a; font-size: 11px; }
svg .row-name { fill: #57606a; font-size: 11px; }
svg .deploy { fill: #1c7ed6; fill-opacity: 0.08; }
svg .deploy-failed { fill: #e03131; fill-opacity: 0.10; }
svg a .bar { cursor: pointer; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #d0d7de; }
th { background: #f3f5f7; font-weight: 600; white-space: nowrap; }
tr.failure { background: FAILURE_ROW; }
td.time, td.region, td.task { white-space: nowrap; }
td.task, td.exit { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
td.code { font-weight: 600; color: #a61e1e; }
td.reason { color: #3d444d; overflow-wrap: anywhere; min-width: 180px; }
td.explain { min-width: 240px; }
.none { color: #57606a; }
footer { margin-top: 24px; color: #57606a; font-size: 12px; }
"#;

/// The whole page.
pub fn render_html<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let multi_region = timeline.regions.len() > 1;
    let zone_name = match zone {
        Zone::Utc => "UTC",
        Zone::Local(_) => "local time",
    };
    let mut page = String::new();
    let title = format!("ECS timeline: cluster {}", timeline.cluster);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(&title),
        STYLE.replace("FAILURE_ROW", FAILURE_ROW_COLOUR)
    );
    let regions = match timeline.regions.len() {
        1 => format!("region {}", timeline.regions.join(", ")),
        _ => format!("regions {}", timeline.regions.join(", ")),
    };
    let _ = write!(
        page,
        "<h1>{}</h1>\n<p class=\"meta\">{} → {} ({zone_name}) · {} · {}</p>\n",
        escape(&title),
        escape(&full_time(timeline.since, zone)),
        escape(&full_time(timeline.until, zone)),
        escape(&regions),
        escape(&timeline.summary())
    );

    page.push_str("<h2>Tasks over time, per service</h2>\n<div class=\"legend\">");
    for ending in Ending::ALL {
        let _ = write!(
            page,
            r#"<span><i class="swatch" style="background:{}"></i>{}</span>"#,
            ending.colour(),
            escape(ending.label())
        );
    }
    page.push_str(
        r#"<span><i class="swatch pale" style="background:#6e7781"></i>pale: before startedAt (provisioning, pulling)</span><span><i class="diamond"></i>service event</span><span><i class="diamond failed"></i>service failure</span><span><i class="swatch pale" style="background:#1c7ed6"></i>deployment</span></div><p class="meta">Runs that do not overlap share a row, so a service is as tall as the most tasks it ran at once. Every failed run is drawn and links to its line in the failures list; routine runs beyond the first rows are folded into a density band.</p>"#,
    );
    page.push('\n');
    if timeline.lanes.is_empty() {
        page.push_str("<p class=\"none\">No events of this cluster in the window.</p>\n");
    } else {
        page.push_str("<div class=\"scroll\">");
        page.push_str(&svg(timeline, zone));
        page.push_str("</div>\n");
    }

    let _ = writeln!(page, "<h2>Failures ({})</h2>", timeline.failures.len());
    if timeline.failures.is_empty() {
        page.push_str("<p class=\"none\">No failures in the window.</p>\n");
    } else {
        page.push_str("<table class=\"failures\">\n<thead><tr><th>Time</th>");
        if multi_region {
            page.push_str("<th>Region</th>");
        }
        page.push_str("<th>Service</th><th>Task</th><th>Stop code / event</th><th>Exit codes</th><th>Reason</th><th>What it means</th></tr></thead>\n<tbody>\n");
        for (index, failure) in timeline.failures.iter().enumerate() {
            // the anchor a failed run's bar links to
            let _ = write!(
                page,
                "<tr class=\"failure\"><td class=\"time\" id=\"f-{index}\">{}</td>",
                escape(&output::show_time(&failure.time, zone))
            );
            if multi_region {
                let _ = write!(
                    page,
                    "<td class=\"region\">{}</td>",
                    escape(&failure.region)
                );
            }
            let _ = writeln!(
                page,
                "<td class=\"service\">{}</td><td class=\"task\" title=\"{}\">{}</td><td class=\"code\">{}</td><td class=\"exit\">{}</td><td class=\"reason\">{}</td><td class=\"explain\">{}</td></tr>",
                escape(&failure.service),
                escape(&failure.task),
                escape(short_id(&failure.task)),
                // long event names may break after an underscore
                escape(&failure.code).replace('_', "_<wbr>"),
                escape(&failure.exit_codes),
                escape(&failure.reason),
                escape(&failure.explanation)
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        page,
        "<footer>Written by ecs-audit at {} from the ecs-state-logger table. Hover a bar or a mark for its times and reasons.</footer>\n</body>\n</html>\n",
        escape(&full_time(timeline.now, zone))
    );
    page
}
