//! The demo day's two halves: what happens on a Fargate cluster and on an EC2 cluster.

use super::task::{Life, Task};
use super::{DEMO_ACCOUNT, Day, Extra};

pub(super) const ESSENTIAL_EXITED: &str = "EssentialContainerExited";
pub(super) const ESSENTIAL_EXITED_REASON: &str = "Essential container in task exited";

/// A Fargate cluster: a web deployment that fails and rolls back, a Spot interruption with a
/// placement failure, a scheduled job whose new revision cannot pull its image.
pub(super) fn fargate_day(day: &mut Day) {
    let (old_deploy, new_deploy, rollback) = (
        "ecs-svc/5718203941726354012",
        "ecs-svc/7301234567890123456",
        "ecs-svc/8123456789012345678",
    );
    let router = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2";
    let web = {
        vec![
            ("web", day.image("web", "2.14.3")),
            ("log-router", router.to_owned()),
        ]
    };
    let web_new = vec![
        ("web", day.image("web", "2.15.0")),
        ("log-router", router.to_owned()),
    ];
    for (name, created) in [("web-a", 960.0), ("web-b", 958.0)] {
        let task = Task::new(day, name, "web:41", web.clone()).service("web", old_deploy);
        let life = Life {
            created,
            started: Some(created - 1.2),
            ..Life::default()
        };
        let events = task.lifecycle(day, &life);
        day.deliver_all(events, Extra::default());
    }
    let in_progress = format!("ECS deployment {new_deploy} in progress.");
    let event = day.deployment(
        "web",
        ("SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO"),
        360.0,
        new_deploy,
        &in_progress,
    );
    day.deliver_all(
        vec![("web-deploy-in-progress".into(), event)],
        Extra::default(),
    );
    for (index, created) in [(1, 359.0), (2, 355.0), (3, 351.0)] {
        let name = ["web-new-1", "web-new-2", "web-new-3"][index - 1];
        let task = Task::new(day, name, "web:42", web_new.clone()).service("web", new_deploy);
        let life = Life {
            created,
            started: Some(created - 1.5),
            stopped: Some(created - 3.2),
            stop_code: Some(ESSENTIAL_EXITED),
            stopped_reason: Some(ESSENTIAL_EXITED_REASON),
            exits: &[("web", 1), ("log-router", 0)],
            ..Life::default()
        };
        let events = task.lifecycle(day, &life);
        // The first one's STOPPED arrives before its last RUNNING events.
        let late: &[(&str, f64)] = if index == 1 {
            &[
                ("web-new-1-v4-running", 60.0),
                ("web-new-1-v5-deprovisioning", 60.0),
            ]
        } else {
            &[]
        };
        day.deliver_all(
            events,
            Extra {
                late,
                ..Extra::default()
            },
        );
    }
    let failed = day.deployment(
        "web",
        ("SERVICE_DEPLOYMENT_FAILED", "ERROR"),
        347.5,
        new_deploy,
        "ECS deployment circuit breaker: tasks failed to start.",
    );
    day.deliver_all(
        vec![("web-deploy-failed".into(), failed)],
        Extra {
            twice: &["web-deploy-failed"],
            ..Extra::default()
        },
    );
    let rolling_back =
        format!("ECS deployment circuit breaker: rolling back to deploymentId {old_deploy}.");
    let completed = format!("ECS deployment {rollback} completed.");
    let events = vec![
        (
            "web-rollback-in-progress".into(),
            day.deployment(
                "web",
                ("SERVICE_DEPLOYMENT_IN_PROGRESS", "INFO"),
                347.49,
                rollback,
                &rolling_back,
            ),
        ),
        (
            "web-rollback-completed".into(),
            day.deployment(
                "web",
                ("SERVICE_DEPLOYMENT_COMPLETED", "INFO"),
                340.0,
                rollback,
                &completed,
            ),
        ),
        (
            "web-steady-state".into(),
            day.service_action("web", "SERVICE_STEADY_STATE", "INFO", 335.0, None),
        ),
    ];
    day.deliver_all(events, Extra::default());

    let worker = vec![("worker", day.image("worker", "1.8.4"))];
    let worker_deploy = "ecs-svc/6617283940516273849";
    let spot = Task::new(day, "worker-a", "worker:9", worker.clone())
        .service("worker", worker_deploy)
        .capacity("FARGATE_SPOT");
    let life = Life {
        created: 900.0,
        started: Some(898.8),
        stopped: Some(180.0),
        stop_code: Some("SpotInterruption"),
        stopped_reason: Some("Your Spot Task was interrupted."),
        exits: &[("worker", 0)],
        ..Life::default()
    };
    let events = spot.lifecycle(day, &life);
    day.deliver_all(
        events,
        Extra {
            twice_new_id: &["worker-a-v6-stopped"],
            ..Extra::default()
        },
    );
    let placement = day.service_action(
        "worker",
        "SERVICE_TASK_PLACEMENT_FAILURE",
        "ERROR",
        179.5,
        Some(("RESOURCE:FARGATE", &["FARGATE_SPOT"])),
    );
    day.deliver_all(
        vec![("worker-placement-failure".into(), placement)],
        Extra::default(),
    );
    for (name, created) in [("worker-b", 880.0), ("worker-c", 172.0)] {
        let task = Task::new(day, name, "worker:9", worker.clone())
            .service("worker", worker_deploy)
            .capacity("FARGATE_SPOT");
        let life = Life {
            created,
            started: Some(created - 1.1),
            ..Life::default()
        };
        let events = task.lifecycle(day, &life);
        day.deliver_all(events, Extra::default());
    }

    let schedule = "events-rule/report-every-4h";
    for (name, created) in [("report-1", 720.0), ("report-2", 480.0)] {
        let task = Task::new(
            day,
            name,
            "report:12",
            vec![("report", day.image("report", "3.2.0"))],
        )
        .started_by(schedule);
        let life = Life {
            created,
            started: Some(created - 0.9),
            stopped: Some(created - 24.0),
            stop_code: Some(ESSENTIAL_EXITED),
            stopped_reason: Some(ESSENTIAL_EXITED_REASON),
            exits: &[("report", 0)],
            ..Life::default()
        };
        let events = task.lifecycle(day, &life);
        day.deliver_all(events, Extra::default());
    }
    let broken_image = day.image("report", "3.3.0-rc1");
    let broken = Task::new(
        day,
        "report-3",
        "report:13",
        vec![("report", broken_image.clone())],
    )
    .started_by(schedule);
    let pull_error = format!(
        "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref {broken_image}: not found"
    );
    let life = Life {
        created: 240.0,
        stopped: Some(238.6),
        stop_code: Some("TaskFailedToStart"),
        stopped_reason: Some(&pull_error),
        reasons: &[("report", &pull_error)],
        ..Life::default()
    };
    let events = broken.lifecycle(day, &life);
    // Its STOPPED event overtakes PROVISIONING and PENDING.
    let late = [
        ("report-3-v1-provisioning", 120.0),
        ("report-3-v2-pending", 121.0),
    ];
    day.deliver_all(
        events,
        Extra {
            late: &late,
            ..Extra::default()
        },
    );
    let rerun = Task::new(
        day,
        "report-4",
        "report:12",
        vec![("report", day.image("report", "3.2.0"))],
    )
    .started_by("ops/manual-rerun");
    let life = Life {
        created: 226.0,
        started: Some(225.1),
        stopped: Some(203.0),
        stop_code: Some(ESSENTIAL_EXITED),
        stopped_reason: Some(ESSENTIAL_EXITED_REASON),
        exits: &[("report", 0)],
        ..Life::default()
    };
    let events = rerun.lifecycle(day, &life);
    day.deliver_all(events, Extra::default());
}

/// An EC2 cluster: an out-of-memory kill, a placement failure for memory until a new
/// instance joins, a scale-in, healthy services.
pub(super) fn ec2_day(day: &mut Day) {
    let xray = "public.ecr.aws/xray/aws-xray-daemon:3.3.12";
    let ingest = {
        vec![
            ("ingest", day.image("ingest", "5.3.0")),
            ("xray-daemon", xray.to_owned()),
        ]
    };
    let ingest_deploy = "ecs-svc/2208765432109876543";
    // The rollout that started the ingest tasks, so `why` on the memory kill shows it.
    let rollout = [
        ("SERVICE_DEPLOYMENT_IN_PROGRESS", "in progress", 945.0),
        ("SERVICE_DEPLOYMENT_COMPLETED", "completed", 936.0),
    ];
    for (name, words, minutes) in rollout {
        let reason = format!("ECS deployment {ingest_deploy} {words}.");
        let event = day.deployment("ingest", (name, "INFO"), minutes, ingest_deploy, &reason);
        let key = format!("ingest-deploy-{}", words.replace(' ', "-"));
        day.deliver_all(vec![(key, event)], Extra::default());
    }
    let oom = Task::new(day, "ingest-a", "ingest:17", ingest.clone())
        .ec2()
        .service("ingest", ingest_deploy);
    let life = Life {
        created: 940.0,
        started: Some(939.0),
        stopped: Some(420.0),
        stop_code: Some(ESSENTIAL_EXITED),
        stopped_reason: Some(ESSENTIAL_EXITED_REASON),
        exits: &[("ingest", 137), ("xray-daemon", 143)],
        reasons: &[(
            "ingest",
            "OutOfMemoryError: Container killed due to memory usage",
        )],
    };
    let events = oom.lifecycle(day, &life);
    day.deliver_all(
        events,
        Extra {
            twice: &["ingest-a-v3-stopped"],
            ..Extra::default()
        },
    );
    let events = vec![
        (
            "ingest-placement-failure".into(),
            day.service_action(
                "ingest",
                "SERVICE_TASK_PLACEMENT_FAILURE",
                "ERROR",
                419.5,
                Some(("RESOURCE:MEMORY", &["demo-asg"])),
            ),
        ),
        (
            "instance-2-registered".into(),
            day.container_instance("instance-2", "i-0b7f2c9d4e6a81357", 412.0),
        ),
    ];
    day.deliver_all(events, Extra::default());
    for (name, created) in [("ingest-b", 410.0), ("ingest-c", 938.0)] {
        let task = Task::new(day, name, "ingest:17", ingest.clone())
            .ec2()
            .service("ingest", ingest_deploy);
        let life = Life {
            created,
            started: Some(created - 0.8),
            ..Life::default()
        };
        let events = task.lifecycle(day, &life);
        // The replacement's PENDING arrives after its RUNNING.
        let late: &[(&str, f64)] = if name == "ingest-b" {
            &[("ingest-b-v1-pending", 90.0)]
        } else {
            &[]
        };
        day.deliver_all(
            events,
            Extra {
                late,
                ..Extra::default()
            },
        );
    }

    let api = vec![("api", day.image("api", "8.1.0"))];
    let api_deploy = "ecs-svc/3344556677889900112";
    let api_task = |day: &Day, name: &'static str| {
        Task::new(day, name, "api:8", api.clone())
            .ec2()
            .service("api", api_deploy)
    };
    let life = Life {
        created: 930.0,
        started: Some(929.4),
        ..Life::default()
    };
    let events = api_task(day, "api-a").lifecycle(day, &life);
    day.deliver_all(events, Extra::default());
    let scaled_in = format!("Scaling activity initiated by (deployment {api_deploy})");
    let life = Life {
        created: 925.0,
        started: Some(924.5),
        stopped: Some(600.0),
        stop_code: Some("ServiceSchedulerInitiated"),
        stopped_reason: Some(&scaled_in),
        exits: &[("api", 0)],
        ..Life::default()
    };
    let events = api_task(day, "api-b").lifecycle(day, &life);
    day.deliver_all(events, Extra::default());
    // The load balancer finds a task unhealthy; ECS codes the stop like a scale-in.
    let target_group = format!(
        "arn:aws:elasticloadbalancing:{}:{DEMO_ACCOUNT}:targetgroup/api/6d0ecf831eec9f09",
        day.region
    );
    let unhealthy = format!("Task failed ELB health checks in (target-group {target_group})");
    let life = Life {
        created: 700.0,
        started: Some(699.2),
        stopped: Some(655.0),
        stop_code: Some("ServiceSchedulerInitiated"),
        stopped_reason: Some(&unhealthy),
        exits: &[("api", 143)],
        ..Life::default()
    };
    let events = api_task(day, "api-c").lifecycle(day, &life);
    day.deliver_all(events, Extra::default());
    let life = Life {
        created: 654.0,
        started: Some(653.3),
        ..Life::default()
    };
    let events = api_task(day, "api-d").lifecycle(day, &life);
    day.deliver_all(events, Extra::default());
    let steady = day.service_action("api", "SERVICE_STEADY_STATE", "INFO", 590.0, None);
    day.deliver_all(
        vec![("api-steady-state".into(), steady)],
        Extra {
            twice: &["api-steady-state"],
            ..Extra::default()
        },
    );
}
