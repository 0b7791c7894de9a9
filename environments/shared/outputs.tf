output "regions" {
  description = "Per region: the table the function writes to, the function, rule, log group, failure queues, the failures topic (to subscribe e-mail or a chat channel to) and a console link to query the table."
  value = {
    for region, logger in local.region_loggers : region => {
      table_name              = logger.table_name
      table_arn               = local.table_arns_by_region[region]
      function_name           = logger.function_name
      rule_name               = logger.rule_name
      log_group_name          = logger.log_group_name
      failed_events_queue_url = logger.failed_events_queue_url
      delivery_dlq_url        = logger.delivery_dlq_url
      failures_topic_arn      = logger.failures_topic_arn
      console_url             = "https://${region}.console.aws.amazon.com/dynamodbv2/home?region=${region}#item-explorer?table=${logger.table_name}"
    }
  }
}

output "global_table" {
  description = "Whether the regions share one global table."
  value       = var.global_table
}

output "primary_region" {
  description = "The region that owns the global table (when global_table is true)."
  value       = var.primary_region
}
