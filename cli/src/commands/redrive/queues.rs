//! The two failure queues of a region, their names, and which `--queue` reads. Pure.

use ecs_audit_core::contract::Queue;

use crate::cli::QueueChoice;

/// The two kinds of failure queue, and how each holds its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    /// The function's on-failure destination: Lambda's invocation record, with the event as
    /// `requestPayload` and the function's error as `responsePayload`.
    FailedEvents,
    /// The rule's dead-letter queue: the event itself as the body, EventBridge's reason in the
    /// `ERROR_CODE` and `ERROR_MESSAGE` message attributes.
    DeliveryDlq,
}

impl QueueKind {
    /// The kind's short name in listings (also the end of its queue's name).
    pub fn suffix(self) -> &'static str {
        match self {
            QueueKind::FailedEvents => "failed-events",
            QueueKind::DeliveryDlq => "delivery-dlq",
        }
    }

    /// The queue's name for an environment named `name`, from the pattern the module names
    /// it by (modules/regional-logger/contract.json). `redrive` checks that file first.
    pub fn queue_name(self, name: &str) -> String {
        let queue = match self {
            QueueKind::FailedEvents => Queue::FailedEvents,
            QueueKind::DeliveryDlq => Queue::DeliveryDlq,
        };
        queue.name_for(name).unwrap_or_default()
    }
}

/// The queues `--queue` names, in the order they are read.
pub fn kinds(choice: QueueChoice) -> &'static [QueueKind] {
    match choice {
        QueueChoice::FailedEvents => &[QueueKind::FailedEvents],
        QueueChoice::DeliveryDlq => &[QueueKind::DeliveryDlq],
        QueueChoice::Both => &[QueueKind::FailedEvents, QueueKind::DeliveryDlq],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_the_module() {
        assert_eq!(
            QueueKind::FailedEvents.queue_name("audit"),
            "audit-failed-events"
        );
        assert_eq!(
            QueueKind::DeliveryDlq.queue_name("audit"),
            "audit-delivery-dlq"
        );
        assert_eq!(kinds(QueueChoice::Both).len(), 2);
        assert_eq!(
            kinds(QueueChoice::DeliveryDlq),
            &[QueueKind::DeliveryDlq][..]
        );
    }
}
