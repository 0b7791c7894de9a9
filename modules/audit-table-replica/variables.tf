variable "global_table_arn" {
  description = "ARN of the table (in its own region) to replicate into this provider's region; the table must have streams with NEW_AND_OLD_IMAGES."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.global_table_arn))
    error_message = "global_table_arn must be a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "deletion_protection" {
  description = "Refuse deleting the replica while true. To remove a protected replica, apply with false first."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery on the replica."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key in the replica's region; null uses the AWS-owned key. Required when the table uses a customer key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  description = "Tags for the replica."
  type        = map(string)
  default     = {}
}
