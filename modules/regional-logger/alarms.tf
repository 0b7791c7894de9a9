################################################################################
# Alarms: one per way an event can be lost or degraded (thresholds argued in README.md)
################################################################################

locals {
  # Custom metrics counted from the function's own log lines.
  log_metric_namespace = "ecs-state-logger"

  # The function logs through lambda_runtime's default subscriber, which with
  # AWS_LAMBDA_LOG_FORMAT=JSON is tracing-subscriber's JSON formatter without flattening: an
  # event's fields sit under "fields". A line of the built bootstrap, as written:
  #   {"level":"WARN","fields":{"message":"event rejected","event_id":"e1","detail_type":"X",
  #    "outcome":"rejected",...},"span":{"requestId":"req-1","name":"Lambda runtime invoke"},"spans":[...]}
  # so the selector is $.fields.outcome (a top-level $.outcome never matches). Lambda stores
  # a custom runtime's JSON lines as written, and metric filters read JSON log events.
  log_outcomes = {
    conflict = {
      metric_name = "${var.name}-conflicts"
      description = "a different event arrived under a key already taken; both are kept (the second under its own #conflict key): someone should compare them"
    }
    written_with_warnings = {
      metric_name = "${var.name}-written-with-warnings"
      description = "events written with warnings (something in them could not be recorded as is)"
    }
    # Logged with outcome "failed" and this error type; Lambda retries the invocation, which
    # publishes the message still unsent.
    notify_error = {
      metric_name = "${var.name}-notify-errors"
      description = "a failure notification could not be published to the failures topic (retried; after the retries the event waits in ${local.failed_events_queue_name})"
      pattern     = "{ $.fields.error_type = \"NotifyError\" }"
    }
  }

  lambda_dimensions = { FunctionName = aws_lambda_function.this.function_name }
  rule_dimensions   = { RuleName = aws_cloudwatch_event_rule.this.name }

  # Defaults of an entry; each entry below overrides what differs.
  alarm_defaults = {
    statistic           = "Sum"
    period              = var.alarm_period_seconds
    evaluation_periods  = 1
    comparison_operator = "GreaterThanOrEqualToThreshold"
    threshold           = 1
    # These metrics are only emitted on activity: no datapoint means nothing failed.
    treat_missing_data = "notBreaching"
  }

  alarm_catalogue = merge(
    {
      errors = {
        description = "Function ${var.name} failed invocations (each is retried, then sent to ${local.failed_events_queue_name})"
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        dimensions  = local.lambda_dimensions
      }
      throttles = {
        description = "Function ${var.name} was throttled at its reserved concurrency (Lambda retries throttled events for up to ${var.function_max_event_age_seconds / 3600} h, then sends them to ${local.failed_events_queue_name})"
        namespace   = "AWS/Lambda"
        metric_name = "Throttles"
        dimensions  = local.lambda_dimensions
      }
      destination-delivery-failures = {
        description = "Function ${var.name} could not send failed events to ${local.failed_events_queue_name}: those events are lost"
        namespace   = "AWS/Lambda"
        metric_name = "DestinationDeliveryFailures"
        dimensions  = local.lambda_dimensions
      }
      failed-invocations = {
        description = "EventBridge rule ${var.name} failed to invoke the function after its retries"
        namespace   = "AWS/Events"
        metric_name = "FailedInvocations"
        dimensions  = local.rule_dimensions
      }
      dead-letter-invocations = {
        description = "EventBridge rule ${var.name} sent events to ${local.delivery_dlq_name}"
        namespace   = "AWS/Events"
        metric_name = "DeadLetterInvocations"
        dimensions  = local.rule_dimensions
      }
      dead-letter-send-failures = {
        description = "EventBridge rule ${var.name} could not send undeliverable events to ${local.delivery_dlq_name}: those events are lost"
        namespace   = "AWS/Events"
        metric_name = "InvocationsFailedToBeSentToDlq"
        dimensions  = local.rule_dimensions
      }
      failed-events = {
        description = "Events the function could not record are waiting in ${local.failed_events_queue_name} (ecs-audit redrive)"
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        statistic   = "Maximum"
        dimensions  = { QueueName = aws_sqs_queue.failed_events.name }
      }
      delivery-dlq = {
        description = "Events EventBridge could not deliver to the function are waiting in ${local.delivery_dlq_name} (ecs-audit redrive)"
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        statistic   = "Maximum"
        dimensions  = { QueueName = aws_sqs_queue.delivery_dlq.name }
      }
      failed-events-age = {
        description = "An event has waited in ${local.failed_events_queue_name} for ${var.queue_age_alarm_seconds / 3600} h; SQS deletes it after ${var.queue_message_retention_seconds / 3600} h: redrive it now"
        namespace   = "AWS/SQS"
        metric_name = "ApproximateAgeOfOldestMessage"
        statistic   = "Maximum"
        threshold   = var.queue_age_alarm_seconds
        dimensions  = { QueueName = aws_sqs_queue.failed_events.name }
      }
      delivery-dlq-age = {
        description = "An event has waited in ${local.delivery_dlq_name} for ${var.queue_age_alarm_seconds / 3600} h; SQS deletes it after ${var.queue_message_retention_seconds / 3600} h: redrive it now"
        namespace   = "AWS/SQS"
        metric_name = "ApproximateAgeOfOldestMessage"
        statistic   = "Maximum"
        threshold   = var.queue_age_alarm_seconds
        dimensions  = { QueueName = aws_sqs_queue.delivery_dlq.name }
      }
      write-throttles = {
        description = "Writes to table ${local.table_name} were throttled (the function retries; sustained throttling ends in errors)"
        namespace   = "AWS/DynamoDB"
        metric_name = "WriteThrottleEvents"
        threshold   = local.write_throttle_threshold
        dimensions  = { TableName = local.table_name }
      }
    },
    {
      for index in var.table_index_names : "write-throttles-${index}" => {
        description = "Writes to index ${index} of table ${local.table_name} were throttled, which throttles the table's writes too"
        namespace   = "AWS/DynamoDB"
        metric_name = "WriteThrottleEvents"
        threshold   = local.write_throttle_threshold
        dimensions  = { TableName = local.table_name, GlobalSecondaryIndexName = index }
      }
    },
    {
      for outcome, log in local.log_outcomes : replace(outcome, "_", "-") => {
        description = "Function ${var.name}: ${log.description}"
        namespace   = local.log_metric_namespace
        metric_name = log.metric_name
        dimensions  = {}
        period      = outcome == "written_with_warnings" ? 3600 : var.alarm_period_seconds
        threshold   = outcome == "written_with_warnings" ? var.written_with_warnings_alarm_threshold : 1
      }
    },
    {
      for key, alarm in {
        silence = {
          description         = "Function ${var.name} was not invoked for ${var.silence_period_seconds / 3600} h: the rule may be disabled or its permission gone (turn this alarm off for a region without ECS)"
          namespace           = "AWS/Lambda"
          metric_name         = "Invocations"
          dimensions          = local.lambda_dimensions
          period              = var.silence_period_seconds
          comparison_operator = "LessThanThreshold"
          # No datapoint at all is exactly the silence this alarm is for.
          treat_missing_data = "breaching"
        }
      } : key => alarm if var.silence_alarm_enabled
    },
  )

  # A throttled PutItem is retried by the SDK, then by Lambda: a few are a warning of a hot
  # partition, not a loss (a loss shows as errors). Ten in a period is a burst worth a look.
  write_throttle_threshold = 10

  alarms = { for key, alarm in local.alarm_catalogue : key => merge(local.alarm_defaults, alarm) }
}

resource "aws_cloudwatch_log_metric_filter" "outcome" {
  for_each = local.log_outcomes

  name           = "${var.name}-${replace(each.key, "_", "-")}"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = lookup(each.value, "pattern", "{ $.fields.outcome = \"${each.key}\" }")

  metric_transformation {
    name      = each.value.metric_name
    namespace = local.log_metric_namespace
    value     = "1"
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]

  tags = var.tags

  # The custom metrics exist only once their filters do.
  depends_on = [aws_cloudwatch_log_metric_filter.outcome]

  lifecycle {
    precondition {
      condition     = var.queue_age_alarm_seconds <= var.queue_message_retention_seconds / 2
      error_message = "queue_age_alarm_seconds (${var.queue_age_alarm_seconds}) must be at most half of queue_message_retention_seconds (${var.queue_message_retention_seconds}), so a waiting event is reported well before SQS deletes it."
    }
  }
}
