//! The page: one self-contained HTML document (inline CSS and SVG, no script), written with
//! `maud`: every string from the table is escaped by construction, events being untrusted
//! input. The only text inserted unescaped is the page's own style sheet.

use std::fmt::Display;

use chrono::TimeZone;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::stats::RELATIVE_ERROR;
use super::svg::svg;
use super::times::full_time;
use super::why_link;
use super::{Ending, FAILURE_ROW_COLOUR, FailureRow, Timeline};
use crate::output::{self, Zone};

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

/// The first 16 characters of a task id: enough to tell tasks apart in the list.
fn short_id(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// A stop code or event name that may break after each underscore (long event names).
fn breakable(code: &str) -> Markup {
    html! {
        @for (index, part) in code.split('_').enumerate() {
            @if index > 0 { "_" wbr; }
            (part)
        }
    }
}

/// The legend of the chart: a swatch per ending, then the pale start, marks and deployments.
fn legend() -> Markup {
    html! {
        div class="legend" {
            @for ending in Ending::ALL {
                span { i class="swatch" style={ "background:" (ending.colour()) } {} (ending.label()) }
            }
            span { i class="swatch pale" style="background:#6e7781" {} "pale: before startedAt (provisioning, pulling)" }
            span { i class="diamond" {} "service event" }
            span { i class="diamond failed" {} "service failure" }
            span { i class="swatch pale" style="background:#1c7ed6" {} "deployment" }
        }
        p class="meta" {
            "Runs that do not overlap share a row, so a service is as tall as the most tasks it ran at once. Every failed run is drawn and links to its line in the failures list; routine runs beyond the first rows are folded into a density band. "
            "A service's median and p95 run time are within " (format!("{:.1}", RELATIVE_ERROR * 100.0)) " % of the exact values."
        }
    }
}

/// One line of the failures list; its time cell is the anchor a failed run's bar links to.
fn failure_row<Tz: TimeZone>(
    index: usize,
    failure: &FailureRow,
    multi_region: bool,
    cluster: &str,
    zone: &Zone<Tz>,
) -> Markup
where
    Tz::Offset: Display,
{
    html! {
        tr class="failure" {
            td class="time" id={ "f-" (index) } { (output::show_time(&failure.time, zone)) }
            @if multi_region {
                td class="region" { (failure.region) }
            }
            td class="service" { (failure.service) }
            td class="task" title=(failure.task) { (short_id(&failure.task)) }
            td class="code" { (breakable(&failure.code)) }
            td class="exit" { (failure.exit_codes) }
            td class="reason" { (failure.reason) }
            td class="explain" {
                (failure.explanation)
                @if let Some(command) = why_link::command(cluster, failure) {
                    br; code class="why" { (command) }
                }
            }
        }
        "\n"
    }
}

/// The failures list, or a line saying there are none.
fn failures<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> Markup
where
    Tz::Offset: Display,
{
    let multi_region = timeline.regions.len() > 1;
    html! {
        h2 { "Failures (" (timeline.failures.len()) ")" } "\n"
        @if timeline.failures.is_empty() {
            p class="none" { "No failures in the window." } "\n"
        } @else {
            table class="failures" {
                "\n"
                thead {
                    tr {
                        th { "Time" }
                        @if multi_region { th { "Region" } }
                        th { "Service" } th { "Task" } th { "Stop code / event" } th { "Exit codes" }
                        th { "Reason" } th { "What it means" }
                    }
                }
                "\n"
                tbody {
                    "\n"
                    @for (index, failure) in timeline.failures.iter().enumerate() {
                        (failure_row(index, failure, multi_region, &timeline.cluster, zone))
                    }
                }
                "\n"
            }
            "\n"
        }
    }
}

/// The cluster's crash loops (one line each: who, since when, how many failures, whether it
/// has ended), or nothing when there were none.
fn crash_loops<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> Markup
where
    Tz::Offset: Display,
{
    let multi_region = timeline.regions.len() > 1;
    html! {
        @if !timeline.crash_loops.is_empty() {
            h2 { "Crash loops (" (timeline.crash_loops.len()) ")" } "\n"
            table class="failures loops" {
                "\n"
                thead {
                    tr {
                        th { "Started" }
                        @if multi_region { th { "Region" } }
                        th { "Service" } th { "Failures" } th { "Latest failure" } th { "Kind" }
                        th { "Ended" }
                    }
                }
                "\n"
                tbody {
                    "\n"
                    @for (region, episode) in &timeline.crash_loops {
                        tr class="failure" {
                            td class="time" { (output::show_time(&episode.started_at, zone)) }
                            @if multi_region { td class="region" { (region) } }
                            td class="service" { (episode.subject.name()) }
                            td { (episode.failures) }
                            td class="time" { (output::show_time(&episode.last_failure_at, zone)) }
                            td class="code" { (episode.last_kind) }
                            td class="time" {
                                @match &episode.ended_at {
                                    Some(ended) => (output::show_time(ended, zone)),
                                    None => "still going on",
                                }
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            "\n"
        }
    }
}

/// The whole page.
pub fn render_html<Tz: TimeZone>(timeline: &Timeline, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let zone_name = match zone {
        Zone::Utc => "UTC",
        Zone::Local(_) => "local time",
    };
    let title = format!("ECS timeline: cluster {}", timeline.cluster);
    let regions = match timeline.regions.len() {
        1 => format!("region {}", timeline.regions.join(", ")),
        _ => format!("regions {}", timeline.regions.join(", ")),
    };
    let style = STYLE.replace("FAILURE_ROW", FAILURE_ROW_COLOUR);
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            "\n"
            head {
                "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                title { (title) } "\n"
                // the page's own constant style sheet; nothing from the table is in it
                style { (PreEscaped(style)) } "\n"
            }
            "\n"
            body {
                "\n"
                h1 { (title) } "\n"
                p class="meta" {
                    (full_time(timeline.since, zone)) " → " (full_time(timeline.until, zone))
                    " (" (zone_name) ") · " (regions) " · " (timeline.summary())
                }
                "\n"
                h2 { "Tasks over time, per service" } "\n"
                (legend()) "\n"
                @if timeline.lanes.is_empty() {
                    p class="none" { "No events of this cluster in the window." } "\n"
                } @else {
                    div class="scroll" { (svg(timeline, zone)) } "\n"
                }
                (failures(timeline, zone))
                (crash_loops(timeline, zone))
                footer {
                    "Written by ecs-audit at " (full_time(timeline.now, zone))
                    " from the ecs-state-logger table. Hover a bar or a mark for its times and reasons."
                }
                "\n"
            }
            "\n"
        }
        "\n"
    };
    page.into_string()
}
