variable "name" {
  description = "Name of the table."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' and '.' (DynamoDB table name rules)."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true. To delete a protected table, apply with false first."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery on the table and on every replica."
  type        = bool
  default     = true
}

variable "point_in_time_recovery_period_days" {
  description = "Days of point-in-time recovery to keep (1-35); null keeps the service default (35)."
  type        = number
  default     = null

  validation {
    condition     = var.point_in_time_recovery_period_days == null || try(var.point_in_time_recovery_period_days >= 1 && var.point_in_time_recovery_period_days <= 35 && floor(var.point_in_time_recovery_period_days) == var.point_in_time_recovery_period_days, false)
    error_message = "point_in_time_recovery_period_days must be a whole number from 1 to 35, or null."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key in the table's region; null encrypts with the AWS-owned key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "replica_regions" {
  description = "Regions to replicate the table to, making it a global table; empty keeps a single-region table. Must not contain the table's own region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for region in var.replica_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))]) && length(distinct(var.replica_regions)) == length(var.replica_regions)
    error_message = "replica_regions must hold distinct region names such as the ones the provider accepts (<area>-<direction>-<n>)."
  }
}

variable "replica_kms_key_arns" {
  description = "Map of replica region to the customer managed KMS key ARN for that replica; required for every replica when kms_key_arn is set."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for region, arn in var.replica_kms_key_arns : can(regex("^arn:[a-z-]+:kms:${region}:[0-9]{12}:key/.+$", arn))])
    error_message = "Each replica_kms_key_arns value must be a KMS key ARN in the region of its key."
  }
}

variable "tags" {
  description = "Tags for the table and its replicas."
  type        = map(string)
  default     = {}
}
