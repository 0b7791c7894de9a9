//! Writes an answer's records as they are produced: a table for people, a JSON array for
//! scripts. Memory stays bounded: the table measures its columns on its first
//! [`TABLE_MEASURED_ROWS`] rows (all of a small answer, so small answers print exactly as a
//! whole-list table would), then writes each row as it comes.

use std::fmt::Display;
use std::io::Write;

use chrono::TimeZone;

use crate::output::{self, Found, Row, Widths, Zone};
use crate::query::SortField;

/// Rows held back to size the table's columns; later rows keep those widths.
pub const TABLE_MEASURED_ROWS: usize = 500;

/// Where records go, one at a time, then the closing lines.
pub trait Sink {
    fn push(&mut self, found: Found) -> std::io::Result<()>;
    /// Writes what follows the last record (the table's summary, the array's end).
    fn finish(&mut self, regions: &[String], what: &str) -> std::io::Result<()>;
}

/// The human table, then one summary line.
pub struct TableSink<'w, Tz: TimeZone> {
    out: &'w mut dyn Write,
    zone: Zone<Tz>,
    sort: SortField,
    held: Vec<Row>,
    widths: Option<Widths>,
    events: usize,
    failures: usize,
}

impl<'w, Tz: TimeZone> TableSink<'w, Tz>
where
    Tz::Offset: Display,
{
    pub fn new(out: &'w mut dyn Write, zone: Zone<Tz>, sort: SortField) -> Self {
        Self {
            out,
            zone,
            sort,
            held: Vec::new(),
            widths: None,
            events: 0,
            failures: 0,
        }
    }

    /// Fixes the widths on the rows held so far and writes them.
    fn release(&mut self) -> std::io::Result<()> {
        let widths = output::widths(&self.held);
        let mut text = output::header_line(&widths);
        for row in self.held.drain(..) {
            text.push_str(&output::row_line(&widths, &row));
        }
        self.widths = Some(widths);
        self.out.write_all(text.as_bytes())
    }
}

impl<Tz: TimeZone> Sink for TableSink<'_, Tz>
where
    Tz::Offset: Display,
{
    fn push(&mut self, found: Found) -> std::io::Result<()> {
        let row = output::row(&found, self.sort, &self.zone);
        self.events += 1;
        self.failures += usize::from(row.failed);
        match &self.widths {
            Some(widths) => {
                let line = output::row_line(widths, &row);
                self.out.write_all(line.as_bytes())
            }
            None => {
                self.held.push(row);
                if self.held.len() >= TABLE_MEASURED_ROWS {
                    self.release()?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, regions: &[String], what: &str) -> std::io::Result<()> {
        if self.widths.is_none() && !self.held.is_empty() {
            self.release()?;
        }
        if self.events > 0 {
            self.out.write_all(b"\n")?;
        }
        let summary = output::summary(self.events, self.failures, regions, what);
        writeln!(self.out, "{summary}")?;
        self.out.flush()
    }
}

/// One JSON array, an element per record, written as each comes.
pub struct JsonSink<'w> {
    out: &'w mut dyn Write,
    written: usize,
}

impl<'w> JsonSink<'w> {
    pub fn new(out: &'w mut dyn Write) -> Self {
        Self { out, written: 0 }
    }
}

impl Sink for JsonSink<'_> {
    fn push(&mut self, found: Found) -> std::io::Result<()> {
        let element = output::json_element(&found).map_err(std::io::Error::other)?;
        let open = if self.written == 0 { "[\n" } else { ",\n" };
        self.out.write_all(open.as_bytes())?;
        self.out.write_all(element.as_bytes())?;
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self, _regions: &[String], _what: &str) -> std::io::Result<()> {
        let close = if self.written == 0 { "[]\n" } else { "\n]\n" };
        self.out.write_all(close.as_bytes())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use ecs_audit_core::record::AuditRecord;

    fn found(id: usize, reason: &str) -> Found {
        Found {
            region: "xx-test-1".into(),
            record: AuditRecord {
                resource_arn: format!("arn:aws:ecs:xx-test-1:1:task/prod/{id:04}"),
                event_key: "v00000000000000000001".into(),
                event_time: "2026-11-20T10:00:00.000Z".into(),
                cluster: Some("prod".into()),
                stopped_reason: Some(reason.into()),
                failure: id
                    .is_multiple_of(3)
                    .then(|| "TaskFailedToStart".to_string()),
                ..AuditRecord::default()
            },
        }
    }

    fn table(records: &[Found]) -> String {
        let mut out = Vec::new();
        let mut sink = TableSink::new(&mut out, Zone::<Utc>::Utc, SortField::EventTime);
        for record in records {
            sink.push(record.clone()).unwrap();
        }
        sink.finish(&["xx-test-1".into()], "cluster prod").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_small_table_prints_as_the_whole_list_would() {
        let records: Vec<Found> = (0..7).map(|i| found(i, "r")).collect();
        let rows: Vec<Row> = records
            .iter()
            .map(|f| output::row(f, SortField::EventTime, &Zone::<Utc>::Utc))
            .collect();
        let expected = format!(
            "{}\n{}\n",
            output::render_table(&rows),
            output::summary(7, 3, &["xx-test-1".into()], "cluster prod")
        );
        assert_eq!(table(&records), expected);
        assert_eq!(
            table(&[]),
            "0 events · cluster prod · region xx-test-1\n",
            "no header for no rows"
        );
    }

    #[test]
    fn rows_after_the_measured_ones_keep_the_widths_and_are_all_written() {
        let mut records: Vec<Found> = (0..TABLE_MEASURED_ROWS + 3)
            .map(|i| found(i, "r"))
            .collect();
        // wider than anything measured: shifts its own line, breaks nothing
        records[TABLE_MEASURED_ROWS + 1].record.cluster = Some("a-much-longer-cluster".into());
        let text = table(&records);
        let lines: Vec<&str> = text.lines().collect();
        // header, rows, blank, summary
        assert_eq!(lines.len(), TABLE_MEASURED_ROWS + 3 + 3);
        assert!(lines[TABLE_MEASURED_ROWS + 2].contains("a-much-longer-cluster  "));
        assert!(text.ends_with(&format!(
            "{} events, {} failures (✗) · cluster prod · region xx-test-1\n",
            TABLE_MEASURED_ROWS + 3,
            (TABLE_MEASURED_ROWS + 3).div_ceil(3)
        )));
    }

    #[test]
    fn json_streams_the_same_array_as_the_whole_list() {
        let records: Vec<Found> = (0..3).map(|i| found(i, "why")).collect();
        for count in [0, 1, 3] {
            let mut out = Vec::new();
            let mut sink = JsonSink::new(&mut out);
            for record in &records[..count] {
                sink.push(record.clone()).unwrap();
            }
            sink.finish(&[], "").unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                output::render_json(&records[..count]).unwrap()
            );
        }
    }
}
