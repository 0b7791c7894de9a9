//! Times as the page shows them, in the zone asked for.

use std::fmt::Display;

use chrono::{DateTime, TimeZone, Utc};

use crate::output::{self, Zone};

/// `time` in `zone`, as `format` (a chrono format) writes it.
pub(super) fn time_text<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>, format: &str) -> String
where
    Tz::Offset: Display,
{
    match zone {
        Zone::Utc => time.format(format).to_string(),
        Zone::Local(tz) => time.with_timezone(tz).format(format).to_string(),
    }
}

/// `time` to the millisecond with its zone, as the table shows it.
pub(super) fn full_time<Tz: TimeZone>(time: DateTime<Utc>, zone: &Zone<Tz>) -> String
where
    Tz::Offset: Display,
{
    output::show_time(&ecs_audit_core::text::format_time(time), zone)
}
