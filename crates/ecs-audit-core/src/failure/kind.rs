//! The failure kind: a short, stable machine id for what went wrong, the same for every
//! reader (the `why` answer, the failures topic's `failureKind` message attribute that
//! subscriptions filter on, the report). Ids never change meaning; new kinds may be added.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// A container was killed for using more memory than its limit.
    OutOfMemory,
    /// A container of the task exited non-zero on its own (application error, crash, signal).
    ExitCode,
    /// The container image could not be pulled.
    ImagePull,
    /// Secrets or registry credentials (Secrets Manager, SSM Parameter Store) could not be read.
    Secrets,
    /// ECS could not start the task for another reason (network interface, log driver, ...).
    StartFailure,
    /// The load balancer's or the container's own health check failed.
    HealthCheck,
    /// Spot capacity was reclaimed.
    Spot,
    /// The host was being retired or terminated.
    HostTermination,
    /// ECS stopped the task because the infrastructure under it was unhealthy.
    InfrastructureHealth,
    /// An EBS volume could not be created or attached.
    EbsAttach,
    /// The scheduler found no capacity or instance to place a task on.
    Placement,
    /// The service's task configuration is invalid.
    Configuration,
    /// A service or daemon keeps failing to start tasks.
    StartImpaired,
    /// A service or daemon deployment failed (and rolls back, if configured).
    DeploymentFailed,
    /// A deployment lifecycle hook failed or timed out.
    HookFailed,
    /// Another error the scheduler reported.
    SchedulerError,
}

impl FailureKind {
    pub const ALL: &'static [FailureKind] = &[
        FailureKind::OutOfMemory,
        FailureKind::ExitCode,
        FailureKind::ImagePull,
        FailureKind::Secrets,
        FailureKind::StartFailure,
        FailureKind::HealthCheck,
        FailureKind::Spot,
        FailureKind::HostTermination,
        FailureKind::InfrastructureHealth,
        FailureKind::EbsAttach,
        FailureKind::Placement,
        FailureKind::Configuration,
        FailureKind::StartImpaired,
        FailureKind::DeploymentFailed,
        FailureKind::HookFailed,
        FailureKind::SchedulerError,
    ];

    /// The machine id, e.g. `out-of-memory`.
    pub fn id(self) -> &'static str {
        match self {
            FailureKind::OutOfMemory => "out-of-memory",
            FailureKind::ExitCode => "exit-code",
            FailureKind::ImagePull => "image-pull",
            FailureKind::Secrets => "secrets",
            FailureKind::StartFailure => "start-failure",
            FailureKind::HealthCheck => "health-check",
            FailureKind::Spot => "spot",
            FailureKind::HostTermination => "host-termination",
            FailureKind::InfrastructureHealth => "infrastructure-health",
            FailureKind::EbsAttach => "ebs-attach",
            FailureKind::Placement => "placement",
            FailureKind::Configuration => "configuration",
            FailureKind::StartImpaired => "start-impaired",
            FailureKind::DeploymentFailed => "deployment-failed",
            FailureKind::HookFailed => "hook-failed",
            FailureKind::SchedulerError => "scheduler-error",
        }
    }

    pub fn from_id(id: &str) -> Option<FailureKind> {
        Self::ALL.iter().copied().find(|kind| kind.id() == id)
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_listed_once_and_serialize_as_themselves() {
        let mut ids: Vec<&str> = FailureKind::ALL.iter().map(|kind| kind.id()).collect();
        for kind in FailureKind::ALL {
            assert_eq!(FailureKind::from_id(kind.id()), Some(*kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.id().into())
            );
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FailureKind::ALL.len());
    }
}
