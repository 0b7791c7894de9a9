//! The lines a redrive shows: each message, what failed and why, on one line. Pure.

use ecs_audit_core::error::UNKNOWN_EVENT_ID;

use super::message::Message;
use super::queues::QueueKind;

/// Error texts are cut to this many characters in the listing.
pub const SHOWN_ERROR_CHARS: usize = 240;

/// An error text on one line, control characters shown as spaces, cut to `max` characters.
pub fn shown(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// `failed-events  <event id>  <detail-type>  <error type>: <error message>`, or why the
/// message cannot be read.
pub fn describe(message: &Message) -> String {
    match &message.failure {
        Ok(failure) => format!(
            "{:<13}  {}  {}  {}: {}",
            message.kind.suffix(),
            failure.event_id(),
            if failure.detail_type().is_empty() {
                "-"
            } else {
                failure.detail_type()
            },
            failure.error_type,
            shown(&failure.error_message, SHOWN_ERROR_CHARS)
        ),
        Err(problem) => format!(
            "{:<13}  {UNKNOWN_EVENT_ID}  -  Unreadable: {}",
            message.kind.suffix(),
            shown(problem, SHOWN_ERROR_CHARS)
        ),
    }
}

/// A message kept in its queue: which event and why.
pub fn kept(kind: QueueKind, event_id: &str, why: &str) -> String {
    format!("{:<13}  {event_id}  {why}", kind.suffix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_shown_on_one_line_and_cut_on_a_character() {
        assert_eq!(shown("a\nb\tc\u{1b}[0m", 100), "a b c [0m");
        assert_eq!(shown("€€€€", 2), "€€…");
        assert_eq!(shown("abc", 3), "abc");
    }
}
