# How far each replica lags behind the table. The metric is published in the table's own
# region with the replica's region as ReceivingRegion, so these alarms live here.
resource "aws_cloudwatch_metric_alarm" "replication_latency" {
  for_each = toset(var.replica_regions)

  alarm_name        = "${var.name}-replication-latency-${each.key}"
  alarm_description = "Replica of ${var.name} in ${each.key} is more than ${var.replication_latency_alarm_ms / 1000} s behind: events recorded elsewhere are missing there for now (nothing is lost while the stream keeps them, 24 h)"
  namespace         = "AWS/DynamoDB"
  metric_name       = "ReplicationLatency"
  statistic         = "Average"
  dimensions = {
    TableName       = aws_dynamodb_table.this.name
    ReceivingRegion = each.key
  }
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.replication_latency_alarm_ms
  # No writes, no datapoints: nothing to replicate is not a lag.
  treat_missing_data = "notBreaching"
  alarm_actions      = [var.alarm_sns_topic_arn]
  ok_actions         = [var.alarm_sns_topic_arn]

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.alarm_sns_topic_arn != null
      error_message = "A global table needs alarm_sns_topic_arn: its replication latency alarms must notify someone."
    }
  }
}
