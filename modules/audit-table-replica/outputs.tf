output "arn" {
  description = "ARN of the replica (the table's ARN with this region)."
  value       = aws_dynamodb_table_replica.this.arn
}

output "region" {
  description = "Region of the replica."
  value       = data.aws_region.current.name
}

output "deletion_protection" {
  description = "Whether the replica refuses deletion."
  value       = aws_dynamodb_table_replica.this.deletion_protection_enabled
}
