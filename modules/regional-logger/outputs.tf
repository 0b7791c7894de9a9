output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_name" {
  description = "Name of the function's execution role (<name>-<region>)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "rule_name" {
  description = "Name of the EventBridge rule on the default bus."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of the function's log group."
  value       = aws_cloudwatch_log_group.this.arn
}

output "table_name" {
  description = "Name of the table the function writes to (its TABLE_NAME)."
  value       = local.table_name
}

output "failed_events_queue_name" {
  description = "Name of the queue receiving invocations that failed after Lambda's retries (contract.json's pattern, which the ecs-audit CLI reads too)."
  value       = aws_sqs_queue.failed_events.name
}

output "failed_events_queue_url" {
  description = "URL of the queue receiving invocations that failed after Lambda's retries."
  value       = aws_sqs_queue.failed_events.url
}

output "failed_events_queue_arn" {
  description = "ARN of the queue receiving invocations that failed after Lambda's retries."
  value       = aws_sqs_queue.failed_events.arn
}

output "delivery_dlq_name" {
  description = "Name of the queue receiving events EventBridge could not deliver to the function (contract.json's pattern, which the ecs-audit CLI reads too)."
  value       = aws_sqs_queue.delivery_dlq.name
}

output "delivery_dlq_url" {
  description = "URL of the queue receiving events EventBridge could not deliver to the function."
  value       = aws_sqs_queue.delivery_dlq.url
}

output "delivery_dlq_arn" {
  description = "ARN of the queue receiving events EventBridge could not deliver to the function."
  value       = aws_sqs_queue.delivery_dlq.arn
}

output "alarm_names" {
  description = "Map of what each alarm watches (the keys of the alarm catalogue in alarms.tf, e.g. errors, failed-events-age, write-throttles-<index>, silence) to its name."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (the one passed in, or the one the module created)."
  value       = local.alarm_topic_arn
}

output "log_metric_filters" {
  description = "Map of function log outcome (conflict, written_with_warnings, notify_error) to the name of the custom metric counting it, in the ecs-state-logger namespace."
  value       = { for outcome, filter in aws_cloudwatch_log_metric_filter.outcome : outcome => filter.metric_transformation[0].name }
}

output "failures_topic_arn" {
  description = "ARN of the SNS topic that receives one message per failure and per crash-loop start and end (the module's <name>-failures, or failures_sns_topic_arn)."
  value       = local.failures_topic_arn
}

output "crash_loop_sweep_rule_arn" {
  description = "ARN of the EventBridge schedule that invokes the function to end quiet crash loops."
  value       = aws_cloudwatch_event_rule.sweep.arn
}
