//! The y/N question before a redrive.

use std::io::Write;

/// `y` or `yes`, any case, is yes; anything else (an empty line, end of input) is no.
pub fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Asks `question` on `log` (standard error, so the listing on standard output stays clean)
/// and reads the answer from standard input; no answer is no.
pub fn confirm(question: &str, log: &mut dyn Write) -> bool {
    let _ = write!(log, "{question} [y/N] ");
    let _ = log.flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && is_yes(&answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y", "Y", "yes", " YES\n", "y\r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure", "1"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
