//! Each failed task of the report links to its `ecs-audit why` answer as the exact command
//! that prints it. The page is static (no script, nothing fetched) and its memory is bounded,
//! so it does not hold every failure's answer (four Queries each); the command, built from the
//! row's own region, cluster, task id and time, gives the same answer on demand. `--since` is
//! the failure's time: the id is looked up from there, so an old failure is found too.

use super::FailureRow;

/// `ecs-audit --region <region> why <cluster>/<task id> --since <failure time>`, for a
/// failure of a task (service events have none).
pub fn command(cluster: &str, failure: &FailureRow) -> Option<String> {
    (failure.task != "-" && !failure.task.is_empty()).then(|| {
        format!(
            "ecs-audit --region {} why {cluster}/{} --since {}",
            failure.region, failure.task, failure.time
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::commands::why;
    use crate::query::TaskRef;
    use clap::Parser;

    fn row(task: &str) -> FailureRow {
        FailureRow {
            time: "2026-11-20T10:00:00.250Z".into(),
            region: "xx-test-2".into(),
            service: "web".into(),
            arn: format!("arn:aws:ecs:xx-test-2:111122223333:task/prod/{task}"),
            task: task.into(),
            code: "EssentialContainerExited".into(),
            exit_codes: "app=137".into(),
            reason: "-".into(),
            explanation: "Out of memory".into(),
        }
    }

    #[test]
    fn the_command_asks_why_of_that_task_in_its_region_from_its_failure() {
        let id = "7f3e0c1d2b3a49588f6e5d4c3b2a1901";
        let command = command("prod", &row(id)).unwrap();
        let mut args = vec!["ecs-audit", "--env", "local"];
        args.extend(command.split(' ').skip(1));
        let cli = Cli::try_parse_from(&args).unwrap();
        assert_eq!(cli.common.region.as_deref(), Some("xx-test-2"));
        let Command::Why(why_args) = cli.command else {
            panic!("{command}")
        };
        let now = chrono::Utc::now();
        let question = why::read(&why_args, now).unwrap();
        assert_eq!(
            question.task,
            TaskRef::Id {
                cluster: Some("prod".into()),
                prefix: id.into()
            }
        );
        assert_eq!(
            question.lookup.bounds().0,
            "2026-11-20T10:00:00.250Z",
            "the lookup starts at the failure"
        );
        // a service event's failure names no task
        assert_eq!(super::command("prod", &row("-")), None);
    }
}
