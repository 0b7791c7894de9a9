//! `--since`/`--until` → a UTC time range → the sort key bounds of a query. Pure: `now` is an
//! argument.
//!
//! Stored times are UTC RFC 3339 with milliseconds (`2026-11-24T06:17:17.123Z`), so they sort as
//! text and a range is a `BETWEEN` on strings formatted the same way.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ecs_audit_core::text::format_time;

use crate::error::{Error, Result};

/// A closed time range `[since, until]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl TimeRange {
    /// Reads `--since` (or `default_since` when absent) and `--until` (now when absent).
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        default_since: &str,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        let since = parse_point("--since", since.unwrap_or(default_since), now)?;
        let until = match until {
            Some(value) => parse_point("--until", value, now)?,
            None => now,
        };
        if since > until {
            return Err(Error::BadArgument(format!(
                "--since ({}) is after --until ({}): swap them or widen the range",
                format_time(since),
                format_time(until)
            )));
        }
        Ok(TimeRange { since, until })
    }

    /// The sort key bounds as stored text, for `BETWEEN :from AND :to`.
    pub fn bounds(&self) -> (String, String) {
        (format_time(self.since), format_time(self.until))
    }
}

/// A duration back from `now`, or an absolute UTC time.
pub fn parse_point(flag: &'static str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let value = value.trim();
    let bad = |problem: String| Error::BadTime {
        flag,
        value: value.to_string(),
        problem,
    };
    if value.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date
            .and_hms_opt(0, 0, 0)
            .map(|time| time.and_utc())
            .ok_or_else(|| bad("not a valid date".into()));
    }
    if value.contains('-') || value.contains(':') {
        return Err(bad(
            "not an RFC 3339 time (it needs a zone: Z or +01:00)".into()
        ));
    }
    let duration = parse_duration(value).map_err(bad)?;
    now.checked_sub_signed(duration)
        .ok_or_else(|| bad("too far back".into()))
}

/// `30s`, `90m`, `2h`, `1d12h`, `7d`, `2w`: one or more number-unit pairs.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let mut total = Duration::zero();
    let mut digits = String::new();
    let mut pairs = 0;
    for character in text.chars() {
        if character.is_ascii_digit() {
            digits.push(character);
            continue;
        }
        if digits.is_empty() {
            return Err(format!("expected a number before {character:?}"));
        }
        let amount: i64 = digits
            .parse()
            .map_err(|_| format!("{digits} is too large"))?;
        let seconds_per_unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            other => return Err(format!("unknown unit {other:?}")),
        };
        let seconds = amount
            .checked_mul(seconds_per_unit)
            .ok_or_else(|| format!("{text} is too long"))?;
        let part = Duration::try_seconds(seconds).ok_or_else(|| format!("{text} is too long"))?;
        total = total
            .checked_add(&part)
            .ok_or_else(|| format!("{text} is too long"))?;
        digits.clear();
        pairs += 1;
    }
    if !digits.is_empty() {
        return Err(format!("{digits} has no unit"));
    }
    if pairs == 0 {
        return Err("no duration given".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn durations_count_back_from_now() {
        let range = TimeRange::parse(Some("2h"), None, "1d", now()).unwrap();
        assert_eq!(
            range.bounds(),
            (
                "2026-11-20T10:00:00.000Z".to_string(),
                "2026-11-20T12:00:00.000Z".to_string()
            )
        );
        let range = TimeRange::parse(None, Some("30m"), "1d12h", now()).unwrap();
        assert_eq!(range.bounds().0, "2026-11-19T00:00:00.000Z");
        assert_eq!(range.bounds().1, "2026-11-20T11:30:00.000Z");
        assert_eq!(parse_duration("2w").unwrap(), Duration::days(14));
        assert_eq!(parse_duration("90s").unwrap(), Duration::seconds(90));
    }

    #[test]
    fn absolute_times_and_dates_are_utc() {
        let range = TimeRange::parse(
            Some("2026-11-19"),
            Some("2026-11-19T15:30:00+01:00"),
            "1d",
            now(),
        )
        .unwrap();
        assert_eq!(
            range.bounds(),
            (
                "2026-11-19T00:00:00.000Z".to_string(),
                "2026-11-19T14:30:00.000Z".to_string()
            )
        );
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for (input, problem) in [
            ("2x", "unknown unit 'x'"),
            ("h", "expected a number"),
            ("15", "has no unit"),
            ("", "empty"),
            ("99999999999999999999d", "too large"),
            ("2026-13-01", "RFC 3339"),
        ] {
            let error = parse_point("--since", input, now()).unwrap_err();
            let text = error.to_string();
            assert!(text.contains(problem), "{input}: {text}");
            assert!(text.contains("--since"), "{text}");
            assert_eq!(error.exit_code(), 2);
        }
    }

    #[test]
    fn since_after_until_is_refused() {
        let error = TimeRange::parse(Some("1h"), Some("2h"), "1d", now()).unwrap_err();
        assert!(error.to_string().contains("after --until"), "{error}");
    }
}
