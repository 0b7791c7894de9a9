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
  description = "Enable point-in-time recovery on the table."
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
  description = "Regions the table is replicated to by modules/audit-table-replica, making it a global table (streams on, a replication latency alarm per replica); empty keeps a single-region table. Must not contain the table's own region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for region in var.replica_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))]) && length(distinct(var.replica_regions)) == length(var.replica_regions)
    error_message = "replica_regions must hold distinct region names such as the ones the provider accepts (<area>-<direction>-<n>)."
  }
}

variable "max_write_request_units" {
  description = "On-demand maximum write request units per second for the table and for each index (a cost ceiling; writes beyond it are throttled); null sets none."
  type        = number
  default     = null

  validation {
    condition     = var.max_write_request_units == null || try(var.max_write_request_units >= 1 && floor(var.max_write_request_units) == var.max_write_request_units, false)
    error_message = "max_write_request_units must be a whole number >= 1, or null."
  }
}

variable "alarm_sns_topic_arn" {
  description = "ARN of the SNS topic notified when a replica's replication latency alarm fires and clears; required when replica_regions is not empty."
  type        = string
  default     = null
}

variable "replication_latency_alarm_ms" {
  description = "Average replication latency to a replica (milliseconds, over three 5-minute periods in a row) that raises its alarm."
  type        = number
  default     = 60000

  validation {
    condition     = var.replication_latency_alarm_ms >= 1000
    error_message = "replication_latency_alarm_ms must be at least 1000."
  }
}

variable "tags" {
  description = "Tags for the table and its replicas."
  type        = map(string)
  default     = {}
}
