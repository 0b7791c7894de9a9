//! What lets the timeline hold a busy day's runs in little memory: texts that repeat across
//! runs (definitions, statuses, stop codes, reasons, ARN prefixes) kept once and shared, and
//! a task's key as 16 bytes when its id is the usual 32 hex digits.

use std::collections::HashSet;
use std::sync::Arc;

/// Each distinct text once; every holder shares it.
#[derive(Debug, Default)]
pub(super) struct Texts(HashSet<Arc<str>>);

impl Texts {
    pub(super) fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = text.into();
        self.0.insert(shared.clone());
        shared
    }

    pub(super) fn get_opt(&mut self, text: Option<&str>) -> Option<Arc<str>> {
        text.map(|text| self.get(text))
    }
}

/// A task's ARN, told apart from every other without keeping it whole: the part up to the
/// last `/` shared, a 32-hex-digit id as a number; any other ARN as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum TaskKey {
    Hex { prefix: Arc<str>, id: u128 },
    Whole(Box<str>),
}

impl TaskKey {
    pub(super) fn new(arn: &str, texts: &mut Texts) -> Self {
        if let Some((prefix, id)) = arn.rsplit_once('/')
            && id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && let Ok(id) = u128::from_str_radix(id, 16)
        {
            return TaskKey::Hex {
                prefix: texts.get(prefix),
                id,
            };
        }
        TaskKey::Whole(arn.into())
    }

    /// The ARN, as it was given.
    pub(super) fn arn(&self) -> String {
        match self {
            TaskKey::Hex { prefix, id } => format!("{prefix}/{id:032x}"),
            TaskKey::Whole(arn) => arn.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gives_its_arn_back_exactly() {
        let mut texts = Texts::default();
        for arn in [
            "arn:aws:ecs:xx-test-1:1:task/prod/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "arn:aws:ecs:xx-test-1:1:task/prod/000000000000000000000000000000ff",
            "arn:aws:ecs:xx-test-1:1:task/prod/0A1B2C3D4E5F60718293A4B5C6D7E8F9",
            "arn:aws:ecs:xx-test-1:1:task/prod/short",
            "arn:aws:ecs:xx-test-1:1:task/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "no-slash",
        ] {
            assert_eq!(TaskKey::new(arn, &mut texts).arn(), arn);
        }
        let a = TaskKey::new("p/0a1b2c3d4e5f60718293a4b5c6d7e8f9", &mut texts);
        let b = TaskKey::new("p/0a1b2c3d4e5f60718293a4b5c6d7e8f8", &mut texts);
        let c = TaskKey::new("q/0a1b2c3d4e5f60718293a4b5c6d7e8f9", &mut texts);
        assert!(matches!(a, TaskKey::Hex { .. }));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            TaskKey::new("p/0a1b2c3d4e5f60718293a4b5c6d7e8f9", &mut texts)
        );
    }
}
