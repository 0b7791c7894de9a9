//! Answers from several regions merged into one ordered list, and shown as a table for people
//! or JSON for scripts. Pure.

use std::fmt::Display;

use chrono::{DateTime, TimeZone, Utc};
use ecs_audit_core::explain::reason;
use ecs_audit_core::record::AuditRecord;
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use crate::query::SortField;

/// A record and the region whose table it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub region: String,
    pub record: AuditRecord,
}

impl Found {
    /// The event's own region (stored, or named by its resource ARN), else the region of the
    /// table it came from.
    pub fn region(&self) -> &str {
        self.record.source_region().unwrap_or(&self.region)
    }
}

/// How times are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone<Tz> {
    Utc,
    Local(Tz),
}

/// `2026-11-20 10:00:00.250Z` in UTC, `2026-11-20 11:00:00.250+01:00` in a local zone; text
/// that is not a time is shown as it is.
pub fn show_time<Tz: TimeZone>(stored: &str, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    let Ok(time) = DateTime::parse_from_rfc3339(stored) else {
        return stored.to_string();
    };
    let time = time.with_timezone(&Utc);
    match zone {
        Zone::Utc => time.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
        Zone::Local(tz) => time
            .with_timezone(tz)
            .format("%Y-%m-%d %H:%M:%S%.3f%:z")
            .to_string(),
    }
}

/// One line of the human table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub failed: bool,
    pub time: String,
    pub region: String,
    pub cluster: String,
    pub service: String,
    pub task: String,
    pub status: String,
    pub stop_code: String,
    pub exit_codes: String,
    pub reason: String,
}

const NONE: &str = "-";

fn or_dash(value: Option<&str>) -> String {
    value.filter(|v| !v.is_empty()).unwrap_or(NONE).to_string()
}

/// The columns a person scans: what happened to what, and why.
pub fn row<Tz: TimeZone>(found: &Found, sort: SortField, zone: &Zone<Tz>) -> Row
where
    Tz::Offset: Display,
{
    let record = &found.record;
    let time = match sort {
        SortField::Version => &record.event_time,
        other => other.value_of(record),
    };
    let status = record
        .last_status
        .as_deref()
        .map(|last| match record.version {
            Some(version) => format!("{last} (v{version})"),
            None => last.to_string(),
        })
        .or_else(|| record.event_name.clone())
        .or_else(|| record.status.clone())
        .unwrap_or_else(|| record.detail_type.clone());
    let stop_code = record.stop_code.as_deref().or(record
        .failure
        .as_deref()
        .filter(|f| Some(*f) != record.event_name.as_deref()));
    Row {
        failed: record.failure.is_some(),
        time: show_time(time, zone),
        region: found.region().to_string(),
        cluster: or_dash(record.cluster_name()),
        service: or_dash(record.service.as_deref()),
        task: or_dash(record.task_id()),
        status,
        stop_code: or_dash(stop_code),
        exit_codes: or_dash(record.exit_codes.as_deref()),
        reason: Some(reason(record))
            .filter(|reason| !reason.is_empty())
            .unwrap_or_else(|| NONE.to_string()),
    }
}

pub const FAILURE_MARK: &str = "✗";
const HEADERS: [&str; 10] = [
    " ",
    "TIME",
    "REGION",
    "CLUSTER",
    "SERVICE",
    "TASK",
    "STATUS",
    "STOP CODE",
    "EXIT CODES",
    "REASON",
];

impl Row {
    fn cells(&self) -> [&str; 10] {
        [
            if self.failed { FAILURE_MARK } else { " " },
            &self.time,
            &self.region,
            &self.cluster,
            &self.service,
            &self.task,
            &self.status,
            &self.stop_code,
            &self.exit_codes,
            &self.reason,
        ]
    }
}

/// Column widths, in terminal cells.
pub type Widths = [usize; 10];

/// The cells `text` takes on a terminal: a CJK character or an emoji takes two, a combining
/// mark none, so a service named in Japanese does not shift the columns after it.
fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// The widths that fit the headers and `rows`.
pub fn widths(rows: &[Row]) -> Widths {
    let mut widths = HEADERS.map(width);
    for row in rows {
        for (column, cell) in row.cells().iter().enumerate() {
            widths[column] = widths[column].max(width(cell));
        }
    }
    widths
}

/// One line of the table: left-aligned columns two spaces apart, the last column (the
/// reason) not padded; a cell wider than its column pushes the rest right.
fn line(widths: &Widths, cells: [&str; 10]) -> String {
    let mut text = String::new();
    for (column, cell) in cells.iter().enumerate() {
        text.push_str(cell);
        if column + 1 < cells.len() {
            let pad = widths[column].saturating_sub(width(cell)) + 2;
            text.push_str(&" ".repeat(pad));
        }
    }
    let mut text = text.trim_end().to_string();
    text.push('\n');
    text
}

/// The header line.
pub fn header_line(widths: &Widths) -> String {
    line(widths, HEADERS)
}

/// A row's line.
pub fn row_line(widths: &Widths, row: &Row) -> String {
    line(widths, row.cells())
}

/// The whole table, widths fitted to `rows`.
pub fn render_table(rows: &[Row]) -> String {
    let widths = widths(rows);
    let mut out = header_line(&widths);
    for row in rows {
        out.push_str(&row_line(&widths, row));
    }
    out
}

/// The line under the table: how many events, how many failed, from where.
pub fn summary(events: usize, failures: usize, regions: &[String], what: &str) -> String {
    let word = if events == 1 { "event" } else { "events" };
    let failed = match failures {
        0 => String::new(),
        1 => format!(", 1 failure ({FAILURE_MARK})"),
        n => format!(", {n} failures ({FAILURE_MARK})"),
    };
    let region_word = if regions.len() == 1 {
        "region"
    } else {
        "regions"
    };
    format!(
        "{events} {word}{failed} · {what} · {region_word} {}",
        regions.join(", ")
    )
}

/// A record as JSON; `region` is filled in (from the resource ARN, else the table's region)
/// when the item does not store it.
pub fn json_value(found: &Found) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(&found.record)?;
    if let Value::Object(map) = &mut value {
        map.entry("region")
            .or_insert_with(|| Value::String(found.region().to_string()));
    }
    Ok(value)
}

/// One element of a pretty-printed JSON array (indented two spaces, as
/// `serde_json::to_string_pretty` prints an array's elements).
pub fn json_element(found: &Found) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string_pretty(&json_value(found)?)?;
    let mut out = String::with_capacity(text.len() + 64);
    for (index, line) in text.lines().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str("  ");
        out.push_str(line);
    }
    Ok(out)
}

/// The records as one JSON array.
pub fn render_json(found: &[Found]) -> Result<String, serde_json::Error> {
    if found.is_empty() {
        return Ok("[]\n".into());
    }
    let elements = found
        .iter()
        .map(json_element)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("[\n{}\n]\n", elements.join(",\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use ecs_audit_core::record::ContainerRecord;

    #[test]
    fn times_in_utc_or_a_zone() {
        let stored = "2026-11-20T10:00:00.250Z";
        assert_eq!(
            show_time::<Utc>(stored, &Zone::Utc),
            "2026-11-20 10:00:00.250Z"
        );
        let zone = Zone::Local(FixedOffset::east_opt(3600).unwrap());
        assert_eq!(show_time(stored, &zone), "2026-11-20 11:00:00.250+01:00");
        assert_eq!(show_time::<Utc>("garbage", &Zone::Utc), "garbage");
    }

    fn oom_task() -> Found {
        Found {
            region: "xx-test-1".into(),
            record: AuditRecord {
                resource_arn: "arn:aws:ecs:xx-test-1:1:task/prod/0a1b2c".into(),
                event_key: "v00000000000000000004".into(),
                event_time: "2026-11-20T10:00:00.000Z".into(),
                cluster: Some("prod".into()),
                service: Some("web".into()),
                last_status: Some("STOPPED".into()),
                version: Some(4),
                stop_code: Some("EssentialContainerExited".into()),
                stopped_reason: Some("Essential container in task exited".into()),
                exit_codes: Some("app=137".into()),
                containers: Some(vec![ContainerRecord {
                    name: Some("app".into()),
                    exit_code: Some(137),
                    reason: Some("OutOfMemoryError: Container killed\ndue to memory".into()),
                    ..ContainerRecord::default()
                }]),
                failure: Some("EssentialContainerExited".into()),
                ..AuditRecord::default()
            },
        }
    }

    #[test]
    fn a_failed_task_row_is_marked_and_explained() {
        let row = row::<Utc>(&oom_task(), SortField::EventTime, &Zone::Utc);
        assert!(row.failed);
        assert_eq!(row.task, "0a1b2c");
        assert_eq!(row.status, "STOPPED (v4)");
        assert_eq!(row.exit_codes, "app=137");
        assert_eq!(
            row.reason,
            "Essential container in task exited; app: OutOfMemoryError: Container killed due to memory"
        );
        let table = render_table(std::slice::from_ref(&row));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("   TIME"), "{table}");
        assert!(
            lines[1].starts_with("✗  2026-11-20 10:00:00.000Z"),
            "{table}"
        );
        // columns line up: the TASK header sits above the task id
        let header_at = lines[0].find("TASK").unwrap();
        assert_eq!(
            lines[1].chars().skip(header_at).take(6).collect::<String>(),
            "0a1b2c",
            "{table}"
        );
        assert_eq!(
            summary(
                1,
                usize::from(row.failed),
                &["xx-test-1".into()],
                "cluster prod"
            ),
            "1 event, 1 failure (✗) · cluster prod · region xx-test-1"
        );
    }

    #[test]
    fn a_scheduler_failure_shows_its_event_name() {
        let found = Found {
            region: "xx-test-1".into(),
            record: AuditRecord {
                resource_arn: "arn:aws:ecs:xx-test-1:1:service/prod/web".into(),
                event_time: "2026-11-20T10:00:00.000Z".into(),
                event_name: Some("SERVICE_TASK_PLACEMENT_FAILURE".into()),
                failure: Some("SERVICE_TASK_PLACEMENT_FAILURE".into()),
                reason: Some("RESOURCE:MEMORY".into()),
                cluster: Some("prod".into()),
                service: Some("web".into()),
                ..AuditRecord::default()
            },
        };
        let row = row::<Utc>(&found, SortField::EventTime, &Zone::Utc);
        assert!(row.failed);
        assert_eq!(row.task, "-");
        assert_eq!(row.status, "SERVICE_TASK_PLACEMENT_FAILURE");
        assert_eq!(row.stop_code, "-");
        assert_eq!(row.reason, "RESOURCE:MEMORY");
    }

    #[test]
    fn what_an_item_leaves_out_is_read_from_its_task_arn() {
        // A global table's replica in another region, an item that stores neither its region
        // nor (a step between RUNNING and STOPPED) its cluster.
        let mut replicated = oom_task();
        replicated.region = "xx-test-9".into();
        replicated.record.region = None;
        replicated.record.cluster = None;
        assert_eq!(replicated.region(), "xx-test-1");
        let row = row::<Utc>(&replicated, SortField::EventTime, &Zone::Utc);
        assert_eq!(
            (row.region.as_str(), row.cluster.as_str()),
            ("xx-test-1", "prod")
        );
        let json = json_value(&replicated).unwrap();
        assert_eq!(json["region"], "xx-test-1");
    }

    #[test]
    fn json_is_one_array_of_records_with_their_region() {
        let mut without_region = oom_task();
        without_region.record.region = None;
        let text = render_json(&[without_region]).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let items = value.as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["region"], "xx-test-1");
        assert_eq!(items[0]["exitCodes"], "app=137");
        assert_eq!(render_json(&[]).unwrap(), "[]\n");
        // element by element, the same text as the whole array pretty-printed
        let two = [oom_task(), oom_task()];
        let whole = serde_json::to_string_pretty(&Value::Array(
            two.iter().map(|f| json_value(f).unwrap()).collect(),
        ))
        .unwrap();
        assert_eq!(render_json(&two).unwrap(), format!("{whole}\n"));
    }

    #[test]
    fn columns_line_up_on_screen_with_wide_characters() {
        // a cluster named in Japanese: 5 characters, 10 terminal cells
        let mut wide = oom_task();
        wide.record.cluster = Some("本番クラスタ".into());
        let narrow = oom_task();
        let rows: Vec<Row> = [wide, narrow]
            .iter()
            .map(|found| row::<Utc>(found, SortField::EventTime, &Zone::Utc))
            .collect();
        let table = render_table(&rows);
        // the SERVICE column starts at the same terminal cell on every line
        let service_at: Vec<usize> = table
            .lines()
            .map(|line| {
                let byte = line.find("SERVICE").or_else(|| line.find("web")).unwrap();
                UnicodeWidthStr::width(&line[..byte])
            })
            .collect();
        assert_eq!(service_at.len(), 3, "{table}");
        assert!(
            service_at.iter().all(|at| *at == service_at[0]),
            "{service_at:?}\n{table}"
        );
    }
}
