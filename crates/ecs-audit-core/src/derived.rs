//! Attributes left out of an item because another attribute of the same item already says
//! them: every byte over 1 KiB costs a second write unit, and a task event is near that
//! line once its containers carry exit codes and reasons. What is left out is read back
//! through [`crate::record::AuditRecord`]'s accessors, also from items that still store it.
//!
//! - `region`, `account`: an ECS resource ARN names both (`arn:aws:ecs:<region>:<account>:…`),
//!   so they are stored only when the key names no region or account, or other ones.
//! - `group`: a service task's group is `service:<service>`, stored only when it is not.
//! - a container's `image`: when every container of a task runs the same image (an app and
//!   its sidecars built from one image), it is stored once, as the item's `image`.
//! - a container's `imageDigest`: it cannot change once the task runs, so it is stored where
//!   the task is seen running (its RUNNING events) and on events of a task that never
//!   started; the events after the start (stopping, stopped) repeat it and leave it out.
//!   A task's history (`ecs-audit why`) takes it from its RUNNING event; a task whose only
//!   recorded event is its STOPPED one shows no digest.

use crate::record::AuditRecord;
#[cfg(test)]
use crate::record::ContainerRecord;

/// The region and account an ARN names (`arn:<partition>:<service>:<region>:<account>:…`).
pub fn arn_region_account(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some(_), Some(region), Some(account), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((region, account)).filter(|(region, account)| !region.is_empty() && !account.is_empty())
}

/// The group a task of `service` has when ECS starts it for the service.
pub fn service_group(service: &str) -> String {
    format!("service:{service}")
}

/// Drops from `record` what its other attributes already say.
pub fn apply(record: &mut AuditRecord) {
    if let Some((region, account)) = arn_region_account(&record.resource_arn)
        && record.region.as_deref() == Some(region)
        && record.account.as_deref() == Some(account)
    {
        record.region = None;
        record.account = None;
    }
    if let (Some(group), Some(service)) = (&record.group, &record.service)
        && *group == service_group(service)
    {
        record.group = None;
    }
    share_one_image(record);
    digest_where_it_ran(record);
}

fn digest_where_it_ran(record: &mut AuditRecord) {
    let started = record.started_at.is_some();
    let running = record.last_status.as_deref() == Some("RUNNING");
    if started && !running {
        for container in record.containers.iter_mut().flatten() {
            container.image_digest = None;
        }
    }
}

fn share_one_image(record: &mut AuditRecord) {
    let Some(containers) = record.containers.as_mut().filter(|c| c.len() > 1) else {
        return;
    };
    let first = containers[0].image.clone();
    if first.is_some() && containers.iter().all(|c| c.image == first) {
        for container in containers.iter_mut() {
            container.image = None;
        }
        record.image = first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> AuditRecord {
        AuditRecord {
            resource_arn: "arn:aws:ecs:xx-test-1:111122223333:task/prod/0a1b".into(),
            region: Some("xx-test-1".into()),
            account: Some("111122223333".into()),
            service: Some("web".into()),
            group: Some("service:web".into()),
            ..AuditRecord::default()
        }
    }

    #[test]
    fn what_the_arn_and_the_service_say_is_not_stored_again() {
        let mut record = task();
        apply(&mut record);
        assert_eq!((&record.region, &record.account), (&None, &None));
        assert_eq!(record.group, None);
        assert_eq!(record.source_region(), Some("xx-test-1"));
        assert_eq!(record.source_account(), Some("111122223333"));
        assert_eq!(record.task_group().as_deref(), Some("service:web"));
    }

    fn container(name: &str, image: Option<&str>) -> ContainerRecord {
        ContainerRecord {
            name: Some(name.into()),
            image: image.map(Into::into),
            ..ContainerRecord::default()
        }
    }

    #[test]
    fn a_digest_is_stored_where_the_task_runs_and_before_it_started() {
        let digest = "sha256:3c4f9a0e1b7d2e6f8a9c0b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f";
        let at = |status: &str, started: bool| {
            let mut record = task();
            record.last_status = Some(status.into());
            record.started_at = started.then(|| "2026-11-20T08:00:40.994Z".into());
            record.containers = Some(vec![ContainerRecord {
                image_digest: Some(digest.into()),
                ..container("web", None)
            }]);
            apply(&mut record);
            record.containers.unwrap()[0].image_digest.clone()
        };
        assert_eq!(at("RUNNING", true).as_deref(), Some(digest));
        // a task that never started keeps what its events say (a failed start)
        assert_eq!(at("STOPPED", false).as_deref(), Some(digest));
        for after_the_start in ["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"] {
            assert_eq!(at(after_the_start, true), None, "{after_the_start}");
        }
    }

    #[test]
    fn one_image_of_every_container_is_stored_once() {
        let image = "111122223333.dkr.ecr.xx-test-1.amazonaws.com/web:4.2";
        let mut shared = task();
        shared.containers = Some(vec![
            container("web", Some(image)),
            container("log-router", Some(image)),
        ]);
        apply(&mut shared);
        assert_eq!(shared.image.as_deref(), Some(image));
        let containers = shared.containers.as_deref().unwrap();
        assert!(containers.iter().all(|c| c.image.is_none()));
        assert!(
            containers
                .iter()
                .all(|c| shared.container_image(c) == Some(image))
        );

        for own in [
            vec![
                container("web", Some(image)),
                container("envoy", Some("envoy:1")),
            ],
            vec![container("web", Some(image)), container("init", None)],
            vec![container("web", Some(image))],
        ] {
            let mut record = task();
            record.containers = Some(own.clone());
            apply(&mut record);
            assert_eq!((record.image, record.containers), (None, Some(own)));
        }
    }

    #[test]
    fn what_they_do_not_say_is_kept() {
        let mut other_region = task();
        other_region.region = Some("xx-test-2".into());
        other_region.group = Some("family:report".into());
        apply(&mut other_region);
        assert_eq!(other_region.region.as_deref(), Some("xx-test-2"));
        assert_eq!(other_region.account.as_deref(), Some("111122223333"));
        assert_eq!(other_region.group.as_deref(), Some("family:report"));

        let mut no_arn = task();
        no_arn.resource_arn = "ECS Something New".into();
        apply(&mut no_arn);
        assert_eq!(no_arn.source_region(), Some("xx-test-1"));
        assert_eq!(arn_region_account("arn:aws:ecs:::task/x"), None);
    }
}
