# Plan checks of a global table's replica with a mock AWS provider (offline): protection and
# recovery of its own, the region rule, and every variable validation. `make test-terraform`
# runs it.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "xx-test-2" }
  }
}

variables {
  global_table_arn = "arn:aws:dynamodb:xx-test-1:123456789012:table/audit-test"
}

run "a_replica_has_deletion_protection_and_point_in_time_recovery_of_its_own" {
  command = plan

  assert {
    condition     = aws_dynamodb_table_replica.this.global_table_arn == var.global_table_arn
    error_message = "The replica must join the table it is given."
  }
  assert {
    condition     = aws_dynamodb_table_replica.this.deletion_protection_enabled && aws_dynamodb_table_replica.this.point_in_time_recovery
    error_message = "Deletion protection and point-in-time recovery are on by default."
  }
}

run "protection_and_key_follow_the_inputs" {
  command = plan
  variables {
    deletion_protection = false
    kms_key_arn         = "arn:aws:kms:xx-test-2:123456789012:key/abc"
  }
  assert {
    condition     = !aws_dynamodb_table_replica.this.deletion_protection_enabled && aws_dynamodb_table_replica.this.kms_key_arn == "arn:aws:kms:xx-test-2:123456789012:key/abc"
    error_message = "deletion_protection and kms_key_arn must reach the replica."
  }
}

run "a_replica_in_its_tables_own_region_is_refused" {
  command = plan
  variables {
    global_table_arn = "arn:aws:dynamodb:xx-test-2:123456789012:table/audit-test"
  }
  expect_failures = [aws_dynamodb_table_replica.this]
}

run "global_table_arn_must_be_a_table_arn" {
  command = plan
  variables { global_table_arn = "audit-test" }
  expect_failures = [var.global_table_arn]
}

run "kms_key_arn_must_be_a_key_arn" {
  command = plan
  variables { kms_key_arn = "alias/mine" }
  expect_failures = [var.kms_key_arn]
}
