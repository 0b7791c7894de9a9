output "name" {
  description = "Name of the table (the same in every region of a global table)."
  value       = aws_dynamodb_table.this.name
}

output "arn" {
  description = "ARN of the table in the region of the provider that created it."
  value       = aws_dynamodb_table.this.arn
}

output "stream_arn" {
  description = "ARN of the table's stream; null unless the table has replicas."
  value       = local.global ? aws_dynamodb_table.this.stream_arn : null
}

output "arns_by_region" {
  description = "Map of region to the ARN of the table or replica there, including the table's own region. Known at plan time, so each region's function and policy can be planned before the replicas exist."
  value       = local.arns_by_region
}

output "hash_key" {
  description = "Partition key attribute of the table."
  value       = local.hash_key
}

output "range_key" {
  description = "Sort key attribute of the table."
  value       = local.range_key
}

output "ttl_attribute" {
  description = "Attribute holding each item's expiry time (epoch seconds)."
  value       = local.ttl_attribute
}

output "index_names" {
  description = "Names of the global secondary indexes."
  value       = sort(keys(local.indexes))
}

output "indexes" {
  description = "Map of global secondary index name to its hash_key, range_key, projection_type and non_key_attributes."
  value       = local.indexes
}

output "alarm_names" {
  description = "Map of replica region to the name of its replication latency alarm (empty for a single-region table)."
  value       = { for region, alarm in aws_cloudwatch_metric_alarm.replication_latency : region => alarm.alarm_name }
}
