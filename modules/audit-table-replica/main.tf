data "aws_region" "current" {}

# A replica of the global table in this provider's region. A resource of its own (rather than
# a `replica` block of the table) so that each replica has deletion protection of its own: a
# replica block cannot set it, and deleting a replica deletes its region's copy of the data.
resource "aws_dynamodb_table_replica" "this" {
  #checkov:skip=CKV_AWS_271:Encrypted with the AWS-owned key unless var.kms_key_arn names a customer key, as the table is (CKV_AWS_119 there).
  global_table_arn            = var.global_table_arn
  kms_key_arn                 = var.kms_key_arn
  point_in_time_recovery      = var.point_in_time_recovery
  deletion_protection_enabled = var.deletion_protection

  tags = var.tags

  lifecycle {
    precondition {
      condition     = split(":", var.global_table_arn)[3] != data.aws_region.current.name
      error_message = "The replica must be in another region than its table (${split(":", var.global_table_arn)[3]}): pass the provider of the replica's region."
    }
  }
}
