//! The failures topic and the crash-loop settings, read once per cold start. Without
//! `FAILURES_TOPIC_ARN` the function only records (no notifications, no crash-loop items).

use chrono::Duration;
use ecs_audit_core::contract::{self, Setting};

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// The region's failures topic.
    pub topic_arn: String,
    /// The function's region, for the console links in messages.
    pub region: String,
    /// Failures of one service (or family) within the window that make a crash loop.
    pub threshold: u32,
    pub window_minutes: u32,
}

impl AlertConfig {
    pub fn window(&self) -> Duration {
        Duration::minutes(i64::from(self.window_minutes))
    }

    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `None` when no topic is configured; an error for a setting out of the bounds the
    /// module validates (its contract.json), so a bad deployment fails at init, not later.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let Some(topic_arn) = lookup("FAILURES_TOPIC_ARN")
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
        else {
            return Ok(None);
        };
        let bounds = contract::crash_loop()?;
        let threshold = setting(
            &lookup,
            "CRASH_LOOP_THRESHOLD",
            bounds.threshold,
            "failures",
        )?;
        let window_minutes = setting(
            &lookup,
            "CRASH_LOOP_WINDOW_MINUTES",
            bounds.window_minutes,
            "minutes",
        )?;
        let region = lookup("AWS_REGION")
            .or_else(|| topic_arn.split(':').nth(3).map(str::to_string))
            .unwrap_or_default();
        Ok(Some(AlertConfig {
            topic_arn,
            region,
            threshold,
            window_minutes,
        }))
    }
}

fn setting(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    bounds: Setting,
    unit: &str,
) -> Result<u32, Error> {
    let Some(raw) = lookup(name) else {
        return Ok(bounds.default);
    };
    match raw.trim().parse::<u32>() {
        Ok(value) if bounds.range().contains(&value) => Ok(value),
        _ => Err(Error::Config(format!(
            "{name} is {raw:?}: it must be a whole number of {unit} from {} to {}",
            bounds.min, bounds.max
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    const TOPIC: &str = "arn:aws:sns:xx-test-1:111122223333:audit-failures";

    #[test]
    fn no_topic_means_no_alerts() {
        assert_eq!(AlertConfig::from_lookup(lookup(&[])).unwrap(), None);
    }

    #[test]
    fn defaults_are_three_failures_in_fifteen_minutes() {
        let config = AlertConfig::from_lookup(lookup(&[("FAILURES_TOPIC_ARN", TOPIC)]))
            .unwrap()
            .unwrap();
        assert_eq!((config.threshold, config.window_minutes), (3, 15));
        assert_eq!(config.region, "xx-test-1");
    }

    #[test]
    fn settings_out_of_bounds_stop_the_function() {
        for (name, bad) in [
            ("CRASH_LOOP_THRESHOLD", "1"),
            ("CRASH_LOOP_THRESHOLD", "three"),
            ("CRASH_LOOP_WINDOW_MINUTES", "0"),
            ("CRASH_LOOP_WINDOW_MINUTES", "1441"),
        ] {
            let error =
                AlertConfig::from_lookup(lookup(&[("FAILURES_TOPIC_ARN", TOPIC), (name, bad)]))
                    .unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
