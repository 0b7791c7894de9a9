//! The page: one self-contained HTML document (inline CSS and SVG, no script). Every
//! string from the table is escaped ([`escape`]): events are untrusted input.

use std::fmt::{Display, Write as _};

use chrono::{DateTime, Duration, TimeZone, Utc};

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
    output::show_time(&ecs_state_logger::record::format_time(time), zone)
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
    let rows: usize = timeline.lanes.iter().map(|lane| lane.tasks.len()).sum();
    let height =
        AXIS_HEIGHT + timeline.lanes.len() as f64 * LANE_HEIGHT + rows as f64 * ROW_HEIGHT + 10.0;
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
    for lane in &timeline.lanes {
        // the lane's header: its name, and its service or cluster events as marks
        let name = if multi_region {
            format!("{} · {}", lane.name, lane.region)
        } else {
            lane.name.clone()
        };
        let _ = write!(
            s,
            r#"<g class="lane"><rect class="lane-band" x="0" y="{y}" width="{WIDTH}" height="{LANE_HEIGHT}"/><text class="lane-name" x="8" y="{:.1}">{}</text>"#,
            y + 17.0,
            escape(&name)
        );
        for marker in &lane.markers {
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
        s.push_str("</g>");
        y += LANE_HEIGHT;

        for task in &lane.tasks {
            let label = match &task.definition {
                Some(definition) => {
                    format!("{} · {}", clip(&task.task_id, 32), clip(definition, 14))
                }
                None => clip(&task.task_id, 32),
            };
            let bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) / 2.0;
            let x_created = scale.x(task.created);
            let x_end = scale.x(task.end).max(x_created + MIN_BAR_WIDTH);
            let x_started = task
                .started
                .map(|started| scale.x(started).clamp(x_created, x_end))
                .unwrap_or(x_created);
            let mut title = format!(
                "task {}{}\n{}: {}",
                task.task_id,
                task.definition
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                task.ending.label(),
                task.last_status
            );
            let _ = write!(title, "\ncreated {}", full_time(task.created, zone));
            if let Some(started) = task.started {
                let _ = write!(title, "\nstarted {}", full_time(started, zone));
            }
            if task.ending != Ending::Running {
                let _ = write!(title, "\nstopped {}", full_time(task.end, zone));
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
            let title = escape(&title);
            let _ = write!(
                s,
                r#"<g class="task {}"><text class="task-name" x="20" y="{:.1}">{}</text><title>{title}</title>"#,
                task.ending.class(),
                y + 14.0,
                escape(&label),
            );
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
                r#"<rect class="bar" x="{x_started:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"/></g>"#,
                (x_end - x_started).max(2.0),
                task.ending.colour()
            );
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
        r#"<span><i class="swatch pale" style="background:#6e7781"></i>pale: before startedAt (provisioning, pulling)</span><span><i class="diamond"></i>service event</span><span><i class="diamond failed"></i>service failure</span></div>"#,
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
        for failure in &timeline.failures {
            let _ = write!(
                page,
                "<tr class=\"failure\"><td class=\"time\">{}</td>",
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
