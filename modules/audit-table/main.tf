data "aws_region" "current" {}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  # The key schema and the indexes live in schema.json, which the Rust code reads too
  # (crates/ecs-audit-core/src/schema.rs): one list, so the table and the code that writes
  # and queries it cannot disagree. Timeline indexes copy only what a console row needs, so
  # each entry stays under 1 KB and costs one write unit; the rare failure entries carry the
  # whole item, reasons included.
  schema        = jsondecode(file("${path.module}/schema.json"))
  hash_key      = local.schema.partition_key
  range_key     = local.schema.sort_key
  ttl_attribute = local.schema.ttl_attribute

  indexes = {
    for index in local.schema.indexes : index.name => {
      hash_key           = index.partition_key
      range_key          = index.sort_key
      projection_type    = index.projection
      non_key_attributes = index.projection == "INCLUDE" ? index.non_key_attributes : null
    }
  }

  key_attributes = distinct(concat(
    [local.hash_key, local.range_key],
    flatten([for index in values(local.indexes) : [index.hash_key, index.range_key]]),
  ))

  global = length(var.replica_regions) > 0

  # A replica's ARN differs from the table's only in its region. Built from values known at
  # plan time rather than read from the replicas, whose ARNs are unknown until they exist;
  # naming the table through the resource keeps every user of an ARN waiting for the table.
  arns_by_region = {
    for region in concat([data.aws_region.current.name], var.replica_regions) :
    region => "arn:${data.aws_partition.current.partition}:dynamodb:${region}:${data.aws_caller_identity.current.account_id}:table/${aws_dynamodb_table.this.name}"
  }
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS-owned key unless var.kms_key_arn names a customer key; a CMK is the deployer's choice, not a default.
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = local.hash_key
  range_key                   = local.range_key
  deletion_protection_enabled = var.deletion_protection

  # Replicas (modules/audit-table-replica, one per region in replica_regions) are fed from
  # the stream, so a global table must have one with both images.
  stream_enabled   = local.global
  stream_view_type = local.global ? "NEW_AND_OLD_IMAGES" : null

  dynamic "attribute" {
    for_each = local.key_attributes
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.indexes
    content {
      name               = global_secondary_index.key
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection_type
      non_key_attributes = global_secondary_index.value.non_key_attributes

      dynamic "on_demand_throughput" {
        for_each = var.max_write_request_units == null ? [] : [var.max_write_request_units]
        content {
          max_write_request_units = on_demand_throughput.value
        }
      }
    }
  }

  ttl {
    attribute_name = local.ttl_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled                 = var.point_in_time_recovery
    recovery_period_in_days = var.point_in_time_recovery ? var.point_in_time_recovery_period_days : null
  }

  # No block at all means the AWS-owned key; `enabled = true` without a key would silently
  # switch to the AWS-managed key instead.
  dynamic "server_side_encryption" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      enabled     = true
      kms_key_arn = server_side_encryption.value
    }
  }

  # A cost ceiling: DynamoDB throttles writes beyond it (the function retries them).
  dynamic "on_demand_throughput" {
    for_each = var.max_write_request_units == null ? [] : [var.max_write_request_units]
    content {
      max_write_request_units = on_demand_throughput.value
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = !contains(var.replica_regions, data.aws_region.current.name)
      error_message = "replica_regions must not contain the table's own region (${data.aws_region.current.name})."
    }

    # Replicas are aws_dynamodb_table_replica resources in their own regions
    # (modules/audit-table-replica), each with its own deletion protection; they add
    # themselves to this table's replica set.
    ignore_changes = [replica]
  }
}
