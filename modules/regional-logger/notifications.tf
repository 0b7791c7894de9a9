################################################################################
# Who is told: the region's alarm topic
################################################################################

# Created unless a topic is passed in, so an alarm can never be left without an action.
resource "aws_sns_topic" "this" {
  #checkov:skip=CKV_AWS_26:Encrypted with var.kms_key_arn when set; the AWS-managed SNS key cannot be used, because its key policy does not let CloudWatch alarms publish.
  count = var.alarm_sns_topic_arn == null ? 1 : 0

  name              = "${var.name}-alarms"
  display_name      = "ecs-state-logger ${var.name} alarms"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

# Each address gets a confirmation e-mail from AWS; it is notified once it confirms.
resource "aws_sns_topic_subscription" "email" {
  for_each = var.alarm_sns_topic_arn == null ? toset(var.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# Who is told of the workloads' failures: the region's failures topic
################################################################################

# Apart from the alarms topic: alarms say this logger needs a person; this topic says an ECS
# workload failed (one message per failure, one per crash-loop start and end). Each message
# carries the attributes notification, cluster, service and failureKind, so a subscription's
# filter policy can take only crash loops, or one cluster's services.
resource "aws_sns_topic" "failures" {
  #checkov:skip=CKV_AWS_26:Encrypted with var.kms_key_arn when set, as the alarms topic is.
  count = var.failures_sns_topic_arn == null ? 1 : 0

  name              = "${var.name}-failures"
  display_name      = "ecs-state-logger ${var.name} failures"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "failure_email" {
  for_each = var.failures_sns_topic_arn == null ? toset(var.failure_emails) : toset([])

  topic_arn = aws_sns_topic.failures[0].arn
  protocol  = "email"
  endpoint  = each.value
}

################################################################################
# The crash-loop sweep: a loop ends after a quiet window, when no event arrives to say so
################################################################################

# Its event's `time` is the sweep's "now": the function closes loops whose last failure is a
# window older than it, and announces each end once.
resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${var.name}-crash-loop-sweep"
  description         = "Ends quiet crash loops for ecs-state-logger ${var.name}"
  schedule_expression = var.crash_loop_sweep_minutes == 1 ? "rate(1 minute)" : "rate(${var.crash_loop_sweep_minutes} minutes)"

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule      = aws_cloudwatch_event_rule.sweep.name
  target_id = "ecs-state-logger-sweep"
  arn       = aws_lambda_function.this.arn

  # A missed sweep is repeated by the next one: no retries, no dead letters needed.
  retry_policy {
    maximum_event_age_in_seconds = 60 * var.crash_loop_sweep_minutes
    maximum_retry_attempts       = 0
  }
}

resource "aws_lambda_permission" "sweep" {
  statement_id  = "ecs-state-logger-${var.name}-sweep"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.sweep.arn
}
