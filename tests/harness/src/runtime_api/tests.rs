use super::*;

#[test]
fn error_documents_and_headers() {
    let (outcome, doc) = parse_error(
        br#"{"errorType":"InvalidEvent","errorMessage":"event 1: no detail"}"#,
        Some("unhandled"),
    );
    assert_eq!(
        outcome,
        Outcome::Error {
            error_type: "InvalidEvent".into(),
            error_message: "event 1: no detail".into()
        }
    );
    assert!(doc.is_some());

    let (outcome, doc) = parse_error(b"boom", Some("Runtime.ExitError"));
    assert_eq!(
        outcome,
        Outcome::Error {
            error_type: "Runtime.ExitError".into(),
            error_message: "boom".into()
        }
    );
    assert!(doc.is_none());

    let (outcome, _) = parse_error(b"{}", None);
    assert!(matches!(outcome, Outcome::Error { error_type, .. } if error_type == "Unhandled"));
}

#[test]
fn trace_ids_look_like_xray() {
    let t = trace_id();
    assert!(t.starts_with("Root=1-"), "{t}");
    assert!(t.ends_with(";Sampled=0"), "{t}");
}

#[test]
fn arn() {
    assert_eq!(
        RuntimeApiConfig {
            region: "xx-test-1".into(),
            ..RuntimeApiConfig::default()
        }
        .function_arn(),
        "arn:aws:lambda:xx-test-1:123456789012:function:ecs-state-logger"
    );
}
