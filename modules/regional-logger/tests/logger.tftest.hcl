# Plan checks of one region's logger with a mock AWS provider (offline): the rule's pattern,
# the function's settings, every alarm's actions, the alarm topic, and every variable
# validation. `make test-terraform` runs it. tests/bootstrap.zip is a placeholder package:
# the plan only hashes it.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "xx-test-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name                = "audit-test"
  table_arn           = "arn:aws:dynamodb:xx-test-1:123456789012:table/audit-table"
  package_path        = "tests/bootstrap.zip"
  alarm_sns_topic_arn = "arn:aws:sns:xx-test-1:123456789012:pager"
}

run "the_rule_sends_the_ecs_detail_types_to_the_function" {
  command = plan

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this.event_pattern) == {
      source = ["aws.ecs"],
      "detail-type" = [
        "ECS Task State Change", "ECS Container Instance State Change", "ECS Service Action",
        "ECS Deployment State Change", "ECS Container Instance Health Change",
        "ECS Hook State Change", "ECS Daemon Service Action", "ECS Daemon Deployment State Change",
      ]
    }
    error_message = "The rule must match source aws.ecs and the eight documented detail-types the function models."
  }
  assert {
    condition     = aws_cloudwatch_event_rule.this.event_bus_name == "default"
    error_message = "AWS services publish on the default bus."
  }
}

run "the_function_writes_to_the_table_it_is_given" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.environment[0].variables.TABLE_NAME == "audit-table" && aws_lambda_function.this.environment[0].variables.RETENTION_DAYS == "14"
    error_message = "TABLE_NAME comes from table_arn, RETENTION_DAYS from retention_days."
  }
  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && one(aws_lambda_function.this.architectures) == "arm64" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "The function runs the bootstrap on provided.al2023, arm64 by default."
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "Without reserved_concurrency the function stays in the unreserved pool."
  }
}

run "every_alarm_notifies_the_topic_it_is_given_when_it_fires_and_clears" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) > 0 && alltrue([for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_actions == toset([var.alarm_sns_topic_arn]) && alarm.ok_actions == toset([var.alarm_sns_topic_arn])])
    error_message = "Each alarm must notify alarm_sns_topic_arn in alarm_actions and ok_actions."
  }
  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_sns_topic_subscription.email) == 0
    error_message = "With a topic given, the module creates none."
  }
}

run "without_a_topic_the_module_creates_one_and_subscribes_the_addresses" {
  command = plan
  variables {
    alarm_sns_topic_arn = null
    alarm_emails        = ["oncall@example.com"]
  }
  assert {
    condition     = length(aws_sns_topic.this) == 1 && aws_sns_topic.this[0].name == "audit-test-alarms" && keys(aws_sns_topic_subscription.email) == ["oncall@example.com"]
    error_message = "Without alarm_sns_topic_arn: a topic <name>-alarms with alarm_emails subscribed."
  }
}

run "silence_alarm_follows_silence_alarm_enabled" {
  command = plan
  variables { silence_alarm_enabled = false }
  assert {
    condition     = length([for key, alarm in aws_cloudwatch_metric_alarm.this : key if alarm.metric_name == "Invocations"]) == 0
    error_message = "silence_alarm_enabled = false must remove the silence (no invocations) alarm."
  }
}

run "a_table_in_another_region_is_refused" {
  command = plan
  variables { table_arn = "arn:aws:dynamodb:xx-test-2:123456789012:table/audit-table" }
  expect_failures = [aws_lambda_function.this]
}

run "name_must_be_a_function_name" {
  command = plan
  variables { name = "a b" }
  expect_failures = [var.name]
}

run "table_arn_must_be_a_table_arn" {
  command = plan
  variables { table_arn = "audit-table" }
  expect_failures = [var.table_arn]
}

run "package_path_must_be_an_existing_zip" {
  command = plan
  variables { package_path = "tests/missing.zip" }
  expect_failures = [var.package_path]
}

run "retention_days_must_be_1_to_3650" {
  command = plan
  variables { retention_days = 0 }
  expect_failures = [var.retention_days]
}

run "architecture_must_be_arm64_or_x86_64" {
  command = plan
  variables { architecture = "amd64" }
  expect_failures = [var.architecture]
}

run "memory_size_must_be_128_to_10240" {
  command = plan
  variables { memory_size = 64 }
  expect_failures = [var.memory_size]
}

run "reserved_concurrency_must_be_a_whole_number" {
  command = plan
  variables { reserved_concurrency = -1 }
  expect_failures = [var.reserved_concurrency]
}

run "tracing_mode_must_be_passthrough_or_active" {
  command = plan
  variables { tracing_mode = "On" }
  expect_failures = [var.tracing_mode]
}

run "log_retention_days_must_be_a_cloudwatch_value" {
  command = plan
  variables { log_retention_days = 2 }
  expect_failures = [var.log_retention_days]
}

run "detail_types_must_be_distinct_and_trimmed" {
  command = plan
  variables { detail_types = ["ECS Task State Change", " ECS Task State Change"] }
  expect_failures = [var.detail_types]
}

run "alarm_emails_must_be_addresses" {
  command = plan
  variables { alarm_emails = ["oncall"] }
  expect_failures = [var.alarm_emails]
}

run "alarm_sns_topic_arn_must_be_a_topic_arn" {
  command = plan
  variables { alarm_sns_topic_arn = "pager" }
  expect_failures = [var.alarm_sns_topic_arn]
}

run "silence_period_seconds_must_be_at_most_a_day" {
  command = plan
  variables { silence_period_seconds = 90000 }
  expect_failures = [var.silence_period_seconds]
}

run "queue_age_alarm_must_fire_well_before_sqs_deletes_a_message" {
  command = plan
  variables {
    queue_message_retention_seconds = 3600
    queue_age_alarm_seconds         = 3000
  }
  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "aws_cli_environment_keys_must_be_variable_names" {
  command = plan
  variables { aws_cli_environment = { "1BAD" = "x" } }
  expect_failures = [var.aws_cli_environment]
}

run "failures_go_to_a_topic_of_their_own_with_the_addresses_subscribed" {
  command = plan
  variables {
    failure_emails = ["team@example.com"]
  }
  assert {
    condition     = length(aws_sns_topic.failures) == 1 && aws_sns_topic.failures[0].name == "audit-test-failures" && keys(aws_sns_topic_subscription.failure_email) == ["team@example.com"]
    error_message = "Without failures_sns_topic_arn: a topic <name>-failures, apart from the alarms topic, with failure_emails subscribed."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.FAILURES_TOPIC_ARN == "arn:aws:sns:xx-test-1:123456789012:audit-test-failures"
    error_message = "The function publishes to the module's own topic, whose ARN (the table's account, this region) is known when planning."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.CRASH_LOOP_THRESHOLD == "3" && aws_lambda_function.this.environment[0].variables.CRASH_LOOP_WINDOW_MINUTES == "15"
    error_message = "The crash-loop settings default to contract.json's 3 failures in 15 minutes."
  }
}

run "a_given_failures_topic_is_the_functions_and_none_is_created" {
  command = plan
  variables {
    failures_sns_topic_arn    = "arn:aws:sns:xx-test-1:123456789012:chat"
    failure_emails            = ["team@example.com"]
    crash_loop_threshold      = 5
    crash_loop_window_minutes = 30
  }
  assert {
    condition     = length(aws_sns_topic.failures) == 0 && length(aws_sns_topic_subscription.failure_email) == 0
    error_message = "With failures_sns_topic_arn given, the module creates no topic and no subscription."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.FAILURES_TOPIC_ARN == var.failures_sns_topic_arn && output.failures_topic_arn == var.failures_sns_topic_arn
    error_message = "The function publishes to the given topic (FAILURES_TOPIC_ARN), and the output names it."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.CRASH_LOOP_THRESHOLD == "5" && aws_lambda_function.this.environment[0].variables.CRASH_LOOP_WINDOW_MINUTES == "30"
    error_message = "crash_loop_threshold and crash_loop_window_minutes reach the function."
  }
}

run "a_schedule_invokes_the_function_to_end_quiet_crash_loops" {
  command = plan
  variables { crash_loop_sweep_minutes = 1 }
  assert {
    condition     = aws_cloudwatch_event_rule.sweep.schedule_expression == "rate(1 minute)" && aws_cloudwatch_event_target.sweep.retry_policy[0].maximum_retry_attempts == 0
    error_message = "The sweep runs every crash_loop_sweep_minutes (rate(1 minute) in the singular) and is not retried: the next one repeats it."
  }
  assert {
    condition     = aws_lambda_permission.sweep.principal == "events.amazonaws.com" && aws_lambda_permission.sweep.action == "lambda:InvokeFunction"
    error_message = "EventBridge may invoke the function for the sweep."
  }
}

run "publish_errors_raise_an_alarm" {
  command = plan
  assert {
    condition     = aws_cloudwatch_log_metric_filter.outcome["notify_error"].pattern == "{ $.fields.error_type = \"NotifyError\" }" && aws_cloudwatch_metric_alarm.this["notify-error"].threshold == 1
    error_message = "A failed publish (logged with error_type NotifyError) raises the notify-error alarm at the first one."
  }
}

run "crash_loop_threshold_must_be_in_the_contracts_bounds" {
  command = plan
  variables { crash_loop_threshold = 1 }
  expect_failures = [var.crash_loop_threshold]
}

run "crash_loop_window_minutes_must_be_in_the_contracts_bounds" {
  command = plan
  variables { crash_loop_window_minutes = 0 }
  expect_failures = [var.crash_loop_window_minutes]
}

run "crash_loop_sweep_minutes_must_be_1_to_60" {
  command = plan
  variables { crash_loop_sweep_minutes = 90 }
  expect_failures = [var.crash_loop_sweep_minutes]
}

run "failure_emails_must_be_addresses" {
  command = plan
  variables { failure_emails = ["team"] }
  expect_failures = [var.failure_emails]
}

run "failures_sns_topic_arn_must_be_a_topic_arn" {
  command = plan
  variables { failures_sns_topic_arn = "chat" }
  expect_failures = [var.failures_sns_topic_arn]
}
