//! The rule can fail: each kind of excess it is there to catch, shown to be caught.

use super::*;

#[test]
fn the_check_refuses_anything_beyond_the_list() {
    let own = Own {
        region: "xx-test-1".into(),
        name: "audit".into(),
        tracing: false,
        kms_key: None,
        log_streams: Some(
            "arn:aws:logs:xx-test-1:123456789012:log-group:/aws/lambda/audit:log-stream:*".into(),
        ),
        queue_arn: Some("arn:aws:sqs:xx-test-1:123456789012:audit-failed-events".into()),
    };
    let statement = |sid: &str, actions: &[&str], resources: &[&str]| Statement {
        sid: sid.into(),
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        resources: resources
            .iter()
            .map(|r| Resource::Known((*r).to_owned()))
            .collect(),
        ..Statement::default()
    };
    let good = vec![
        statement(
            "T",
            &["dynamodb:PutItem"],
            &["arn:aws:dynamodb:xx-test-1:123456789012:table/audit"],
        ),
        statement(
            "L",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            &["arn:aws:logs:xx-test-1:123456789012:log-group:/aws/lambda/audit:log-stream:*"],
        ),
        statement(
            "Q",
            &["sqs:SendMessage"],
            &["arn:aws:sqs:xx-test-1:123456789012:audit-failed-events"],
        ),
        statement(
            "C",
            &["dynamodb:UpdateItem", "dynamodb:Query"],
            &["arn:aws:dynamodb:xx-test-1:123456789012:table/audit"],
        ),
        statement(
            "P",
            &["sns:Publish"],
            &["arn:aws:sns:xx-test-1:123456789012:audit-failures"],
        ),
    ];
    assert_eq!(check_statements(&good, &own), Vec::<String>::new());

    let mut not_action = statement("N", &[], &["*"]);
    not_action.not_actions = true;
    let bad: Vec<(Statement, &str)> = vec![
        (
            statement(
                "W",
                &["dynamodb:*"],
                &["arn:aws:dynamodb:xx-test-1:123456789012:table/audit"],
            ),
            "wildcard action",
        ),
        (
            statement(
                "D",
                &["dynamodb:DeleteItem"],
                &["arn:aws:dynamodb:xx-test-1:123456789012:table/audit"],
            ),
            "beyond the list",
        ),
        (
            statement(
                "R",
                &["dynamodb:PutItem"],
                &["arn:aws:dynamodb:xx-test-2:123456789012:table/audit"],
            ),
            "not the function's own",
        ),
        (
            statement(
                "O",
                &["dynamodb:PutItem"],
                &["arn:aws:dynamodb:xx-test-1:123456789012:table/other"],
            ),
            "not the function's own",
        ),
        (
            statement("S", &["dynamodb:PutItem"], &["*"]),
            "not the function's own",
        ),
        (
            statement(
                "G",
                &["logs:PutLogEvents"],
                &["arn:aws:logs:xx-test-1:123456789012:log-group:*"],
            ),
            "not the function's own",
        ),
        (
            statement("X", &["xray:PutTraceSegments"], &["*"]),
            "without tracing_mode Active",
        ),
        (
            statement(
                "K",
                &["kms:Decrypt"],
                &["arn:aws:kms:xx-test-1:123456789012:key/1"],
            ),
            "without a customer key",
        ),
        (
            statement("M", &["dynamodb:PutItem", "sqs:SendMessage"], &["*"]),
            "mixes actions",
        ),
        (
            statement(
                "A",
                &["sns:Publish"],
                &["arn:aws:sns:xx-test-1:123456789012:audit-alarms"],
            ),
            "not the function's own",
        ),
        (
            statement(
                "I",
                &["dynamodb:Query"],
                &["arn:aws:dynamodb:xx-test-1:123456789012:table/audit/index/*"],
            ),
            "not the function's own",
        ),
        (not_action, "NotAction"),
    ];
    for (extra, expected) in bad {
        let mut statements = good.clone();
        let sid = extra.sid.clone();
        statements.push(extra);
        let problems = check_statements(&statements, &own);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{sid}: expected {expected:?} in {problems:?}"
        );
    }
    // A missing statement is a broken function, and says so.
    let problems = check_statements(&good[..2], &own);
    assert!(
        problems.iter().any(|p| p.contains("no Queue statement")),
        "{problems:?}"
    );
    let problems = check_statements(&good[..4], &own);
    assert!(
        problems.iter().any(|p| p.contains("no Topic statement")),
        "{problems:?}"
    );
}
