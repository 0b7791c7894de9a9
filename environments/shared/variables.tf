# Inputs of every environment root. The values live in the environment's
# terraform.tfvars.json, the one place that names its regions. A value that one module takes
# as it is (name, retention_days, architecture, ...) is validated by that module alone; the
# rules here are the environment's own: its region list and the maps keyed by region.

variable "name" {
  description = "Name of the environment's tables, functions, rules and log groups (the same in every region)."
  type        = string
}

variable "regions" {
  description = "Regions this environment logs: each gets its own rule, function, log group, role and (unless global_table) table."
  type        = list(string)

  validation {
    condition     = length(var.regions) > 0 && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must be a non-empty list without repeats."
  }

  validation {
    condition     = alltrue([for region in var.regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))])
    error_message = "Each entry of regions must be a region code such as the AWS console shows (<area>-<direction>-<n>)."
  }
}

variable "primary_region" {
  description = "The region whose table is the global table when global_table is true; must be one of regions."
  type        = string

  validation {
    condition     = contains(var.regions, var.primary_region)
    error_message = "primary_region must be one of regions."
  }
}

variable "global_table" {
  description = "One DynamoDB global table (created in primary_region, replicas in the other regions) instead of one table per region."
  type        = bool
  default     = false
}

variable "retention_days" {
  description = "Days each audit record is kept before DynamoDB's TTL removes it, within the bounds in modules/regional-logger/contract.json (the module validates them)."
  type        = number
  default     = 14
}

variable "architecture" {
  description = "Lambda architecture of the package: arm64 (cheaper per GB-second) or x86_64. Must match the build (make build ARCH=...)."
  type        = string
  default     = "arm64"
}

variable "package_path" {
  description = "The function package built by cargo-lambda, relative to the environment directory."
  type        = string
  default     = "../../target/lambda/ecs-state-logger/bootstrap.zip"
}

variable "memory_size" {
  description = "Function memory in MB (128-10240)."
  type        = number
  default     = 128
}

variable "deletion_protection" {
  description = "Protect the tables from deletion. A protected environment is destroyed by applying with false first (see environments/README.md)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days the functions' CloudWatch log groups keep their logs."
  type        = number
  default     = 30
}

variable "tracing_mode" {
  description = "X-Ray tracing of the functions: PassThrough or Active."
  type        = string
  default     = "PassThrough"
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for each region's function: a ceiling on its DynamoDB writes and a floor nothing else in the account can take (see modules/regional-logger/README.md, 'Back-pressure'); null uses the account's unreserved pool."
  type        = number
  default     = null
}

variable "max_write_request_units" {
  description = "Cost ceiling: the most write request units per second DynamoDB serves each table (on-demand maximum throughput); writes beyond it are throttled and retried. null sets no ceiling."
  type        = number
  default     = null
}

variable "detail_types" {
  description = "ECS detail-types the rules deliver; null keeps the module's default (the documented types the function models)."
  type        = list(string)
  default     = null
}

variable "kms_key_arns" {
  description = "Map of region to a customer managed KMS key for that region's table, queues and logs; regions left out use AWS-owned keys. With global_table, every region needs one or none does."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.kms_key_arns), var.regions)) == 0
    error_message = "kms_key_arns names regions that are not in regions."
  }

  # A replica of a table encrypted with a customer key needs a customer key of its own.
  validation {
    condition     = !var.global_table || length(var.kms_key_arns) == 0 || length(setsubtract(var.regions, keys(var.kms_key_arns))) == 0
    error_message = "With global_table, kms_key_arns must name a key for every region or for none."
  }
}

variable "alarm_sns_topic_arns" {
  description = "Map of region to an existing SNS topic that the region's alarms notify; regions left out get a topic of their own, <name>-alarms, with notification_emails subscribed."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.alarm_sns_topic_arns), var.regions)) == 0
    error_message = "alarm_sns_topic_arns names regions that are not in regions."
  }
}

variable "notification_emails" {
  description = "E-mail addresses subscribed to every region's own alarm topic (each confirms AWS's e-mail once)."
  type        = list(string)
  default     = []

  # Alarms nobody receives are no alarms: an environment says who is told before it plans.
  validation {
    condition     = !var.notification_target_required || length(var.notification_emails) > 0 || length(setsubtract(var.regions, keys(var.alarm_sns_topic_arns))) == 0
    error_message = "Nobody would be told of an alarm: set \"notification_emails\" (or \"alarm_sns_topic_arns\" for every region) in terraform.tfvars.json, or pass -var 'notification_emails=[\"you@example.com\"]'."
  }
}

variable "notification_target_required" {
  description = "Refuse to plan unless notification_emails or alarm_sns_topic_arns (every region) says who is told of an alarm; only the local environment turns this off."
  type        = bool
  default     = true
}

variable "failures_sns_topic_arns" {
  description = "Map of region to an existing SNS topic that receives the region's failure and crash-loop messages (e.g. one a chat channel already subscribes to); regions left out get a topic of their own, <name>-failures, with failure_emails subscribed."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.failures_sns_topic_arns), var.regions)) == 0
    error_message = "failures_sns_topic_arns names regions that are not in regions."
  }
}

variable "failure_emails" {
  description = "E-mail addresses subscribed to every region's own failures topic: one message per failed task or service event, one per crash-loop start and end."
  type        = list(string)
  default     = []
}

variable "crash_loop_threshold" {
  description = "Failures of one service (or standalone family) within crash_loop_window_minutes that make a crash loop; null takes the module's default (modules/regional-logger/contract.json)."
  type        = number
  default     = null
}

variable "crash_loop_window_minutes" {
  description = "Minutes within which crash_loop_threshold failures make a crash loop, and of quiet that end it; null takes the module's default (modules/regional-logger/contract.json)."
  type        = number
  default     = null
}

variable "silence_alarm_off_regions" {
  description = "Regions where the silence alarm (no invocation for silence_period_seconds) is off, because no ECS runs there."
  type        = list(string)
  default     = []

  validation {
    condition     = length(setsubtract(var.silence_alarm_off_regions, var.regions)) == 0
    error_message = "silence_alarm_off_regions names regions that are not in regions."
  }
}

variable "silence_period_seconds" {
  description = "How long without a single invocation in a region raises its silence alarm (3600-86400 s)."
  type        = number
  default     = 86400
}

variable "aws_endpoint_url" {
  description = "Send every AWS call to this endpoint (a local AWS API such as moto server) with test credentials; null talks to AWS."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource the environment creates."
  type        = map(string)
  default     = {}
}
