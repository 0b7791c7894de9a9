# Plan checks of the audit table with a mock AWS provider (offline): the key schema the
# function and the CLI rely on, the indexes, TTL, the global-table switch, and every
# variable validation. `make test-terraform` runs it.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "xx-test-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name = "audit-test"
}

run "a_single_region_table_has_the_keys_indexes_and_ttl_the_readers_rely_on" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "resourceArn" && aws_dynamodb_table.this.range_key == "eventKey"
    error_message = "The key schema is the contract with the function and the CLI: resourceArn / eventKey."
  }
  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "The table is on-demand."
  }
  assert {
    condition     = one(aws_dynamodb_table.this.ttl).attribute_name == "expiresAt" && one(aws_dynamodb_table.this.ttl).enabled
    error_message = "TTL must be on, on expiresAt (the function's expiry attribute)."
  }
  assert {
    condition     = toset([for index in aws_dynamodb_table.this.global_secondary_index : index.name]) == toset(["cluster-time", "service-time", "family-stopped", "cluster-failures"])
    error_message = "The table must have the four indexes the CLI queries."
  }
  assert {
    condition     = alltrue([for index in aws_dynamodb_table.this.global_secondary_index : index.projection_type == (index.name == "cluster-failures" ? "ALL" : "INCLUDE")])
    error_message = "Timeline indexes project a few attributes; the failure index projects the whole item."
  }
  assert {
    condition     = toset(output.index_names) == toset([for index in aws_dynamodb_table.this.global_secondary_index : index.name])
    error_message = "index_names must name the table's indexes (each gets a throttle alarm)."
  }
  assert {
    condition     = !aws_dynamodb_table.this.stream_enabled && length(aws_cloudwatch_metric_alarm.replication_latency) == 0
    error_message = "Without replicas: no stream and no replication alarm."
  }
  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled && one(aws_dynamodb_table.this.point_in_time_recovery).enabled
    error_message = "Deletion protection and point-in-time recovery are on by default."
  }
  assert {
    condition     = length(aws_dynamodb_table.this.server_side_encryption) == 0
    error_message = "Without kms_key_arn the table keeps the AWS-owned key (no encryption block)."
  }
  assert {
    condition     = output.arns_by_region == { "xx-test-1" = "arn:aws:dynamodb:xx-test-1:123456789012:table/audit-test" }
    error_message = "arns_by_region must name the table in its own region, known at plan time."
  }
}

run "replica_regions_make_a_global_table_with_a_stream_and_a_latency_alarm_per_replica" {
  command = plan

  variables {
    replica_regions     = ["xx-test-2", "xx-test-3"]
    alarm_sns_topic_arn = "arn:aws:sns:xx-test-1:123456789012:alarms"
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "Replicas are fed by a stream with both images."
  }
  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.replication_latency) == ["xx-test-2", "xx-test-3"]
    error_message = "One replication latency alarm per replica region."
  }
  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.replication_latency : alarm.alarm_actions == toset(["arn:aws:sns:xx-test-1:123456789012:alarms"]) && alarm.ok_actions == toset(["arn:aws:sns:xx-test-1:123456789012:alarms"])])
    error_message = "Each replication alarm notifies the topic when it fires and when it clears."
  }
  assert {
    condition     = length(output.arns_by_region) == 3 && output.arns_by_region["xx-test-3"] == "arn:aws:dynamodb:xx-test-3:123456789012:table/audit-test"
    error_message = "arns_by_region names the replica in each replica region."
  }
}

run "a_global_table_without_an_alarm_topic_is_refused" {
  command = plan
  variables {
    replica_regions = ["xx-test-2"]
  }
  expect_failures = [aws_cloudwatch_metric_alarm.replication_latency]
}

run "the_table_cannot_replicate_into_its_own_region" {
  command = plan
  variables {
    replica_regions     = ["xx-test-1"]
    alarm_sns_topic_arn = "arn:aws:sns:xx-test-1:123456789012:alarms"
  }
  expect_failures = [aws_dynamodb_table.this]
}

run "a_write_ceiling_applies_to_the_table_and_every_index" {
  command = plan
  variables {
    max_write_request_units = 40
  }
  assert {
    condition     = one(aws_dynamodb_table.this.on_demand_throughput).max_write_request_units == 40 && alltrue([for index in aws_dynamodb_table.this.global_secondary_index : one(index.on_demand_throughput).max_write_request_units == 40])
    error_message = "max_write_request_units must cap the table and each index."
  }
}

run "name_must_be_a_dynamodb_table_name" {
  command = plan
  variables { name = "a b" }
  expect_failures = [var.name]
}

run "kms_key_arn_must_be_a_key_arn" {
  command = plan
  variables { kms_key_arn = "alias/mine" }
  expect_failures = [var.kms_key_arn]
}

run "replica_regions_must_be_distinct_region_names" {
  command = plan
  variables {
    replica_regions     = ["xx-test-2", "xx-test-2"]
    alarm_sns_topic_arn = "arn:aws:sns:xx-test-1:123456789012:alarms"
  }
  expect_failures = [var.replica_regions]
}

run "max_write_request_units_must_be_a_whole_number_from_1" {
  command = plan
  variables { max_write_request_units = 0.5 }
  expect_failures = [var.max_write_request_units]
}

run "point_in_time_recovery_period_days_must_be_1_to_35" {
  command = plan
  variables { point_in_time_recovery_period_days = 36 }
  expect_failures = [var.point_in_time_recovery_period_days]
}

run "replication_latency_alarm_ms_must_be_at_least_a_second" {
  command = plan
  variables { replication_latency_alarm_ms = 999 }
  expect_failures = [var.replication_latency_alarm_ms]
}
