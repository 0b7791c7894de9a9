variable "name" {
  description = "Name of the function, the EventBridge rule and the log group /aws/lambda/<name>; prefix of the queues, the alarms and the execution role <name>-<region>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, '-' or '_' (Lambda function and EventBridge rule name rules)."
  }
}

variable "table_arn" {
  description = "ARN of the audit table, or of its replica, in this provider's region. The function may only PutItem there."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.table_arn))
    error_message = "table_arn must be a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "package_path" {
  description = "Path of the function's zip (cargo-lambda's bootstrap.zip)."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must name a .zip file (cargo lambda build --output-format zip)."
  }

  validation {
    condition     = fileexists(var.package_path)
    error_message = "package_path ${var.package_path} does not exist: build the function first (make build)."
  }
}

variable "retention_days" {
  description = "Days each audit record is kept before DynamoDB's TTL expires it (the function's RETENTION_DAYS)."
  type        = number
  default     = 14

  validation {
    condition     = var.retention_days >= local.contract.retention_days.min && var.retention_days <= local.contract.retention_days.max && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number from ${local.contract.retention_days.min} to ${local.contract.retention_days.max}."
  }
}

variable "architecture" {
  description = "Instruction set of the function; must match the package's build."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB (128-10240)."
  type        = number
  default     = 128

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Timeout of one invocation in seconds (1-900)."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for the function; null leaves it in the unreserved pool, 0 stops all invocations."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be a whole number >= 0, or null."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the function: PassThrough or Active (Active also grants the role the X-Ray write actions)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "application_log_level" {
  description = "Lowest level of the function's own log lines that CloudWatch keeps (TRACE, DEBUG, INFO, WARN, ERROR, FATAL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "system_log_level" {
  description = "Lowest level of the Lambda platform's log lines that CloudWatch keeps (DEBUG, INFO, WARN)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be one of DEBUG, INFO, WARN."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's log group (a value CloudWatch accepts; 0 keeps forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "detail_types" {
  description = "ECS detail-types the rule sends to the function; null means the default, contract.json's detail_types (the ones the function models). The function records unknown ones too."
  type        = list(string)
  default     = null

  validation {
    condition     = var.detail_types == null || length(coalesce(var.detail_types, ["-"])) > 0
    error_message = "detail_types must name at least one detail-type."
  }

  validation {
    condition     = var.detail_types == null || (alltrue([for type in coalesce(var.detail_types, ["-"]) : trimspace(type) == type && length(type) > 0]) && length(distinct(coalesce(var.detail_types, ["-"]))) == length(coalesce(var.detail_types, ["-"])))
    error_message = "detail_types must be distinct, non-empty strings without leading or trailing spaces, e.g. \"ECS Task State Change\"."
  }
}

variable "delivery_max_event_age_seconds" {
  description = "How long EventBridge keeps retrying delivery of an event to the function (60-86400 s) before sending it to the delivery dead-letter queue."
  type        = number
  default     = 86400

  validation {
    condition     = var.delivery_max_event_age_seconds >= 60 && var.delivery_max_event_age_seconds <= 86400 && floor(var.delivery_max_event_age_seconds) == var.delivery_max_event_age_seconds
    error_message = "delivery_max_event_age_seconds must be a whole number from 60 to 86400."
  }
}

variable "delivery_max_retry_attempts" {
  description = "How many times EventBridge retries delivery of an event to the function (0-185)."
  type        = number
  default     = 185

  validation {
    condition     = var.delivery_max_retry_attempts >= 0 && var.delivery_max_retry_attempts <= 185 && floor(var.delivery_max_retry_attempts) == var.delivery_max_retry_attempts
    error_message = "delivery_max_retry_attempts must be a whole number from 0 to 185."
  }
}

variable "function_max_event_age_seconds" {
  description = "How long Lambda keeps retrying a failed asynchronous invocation (60-21600 s) before sending it to the failed-events queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.function_max_event_age_seconds >= 60 && var.function_max_event_age_seconds <= 21600 && floor(var.function_max_event_age_seconds) == var.function_max_event_age_seconds
    error_message = "function_max_event_age_seconds must be a whole number from 60 to 21600."
  }
}

variable "function_max_retry_attempts" {
  description = "How many times Lambda retries a failed asynchronous invocation (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.function_max_retry_attempts)
    error_message = "function_max_retry_attempts must be 0, 1 or 2."
  }
}

variable "queue_message_retention_seconds" {
  description = "How long both queues keep a message (60-1209600 s; the default is the maximum, 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.queue_message_retention_seconds >= 60 && var.queue_message_retention_seconds <= 1209600 && floor(var.queue_message_retention_seconds) == var.queue_message_retention_seconds
    error_message = "queue_message_retention_seconds must be a whole number from 60 to 1209600."
  }
}

variable "queue_max_message_size" {
  description = "Largest message both queues accept, in bytes (1024-1048576; the default is SQS's maximum, 1 MiB, the size of the largest event). Set after each queue is created with the AWS CLI (see aws_cli_environment)."
  type        = number
  default     = 1048576

  validation {
    condition     = var.queue_max_message_size >= 1024 && var.queue_max_message_size <= 1048576 && floor(var.queue_max_message_size) == var.queue_max_message_size
    error_message = "queue_max_message_size must be a whole number of bytes from 1024 to 1048576."
  }
}

variable "aws_cli_environment" {
  description = "Environment variables for the AWS CLI that sets queue_max_message_size (e.g. AWS_ENDPOINT_URL and test credentials for a local AWS API); empty uses the CLI's default credential chain, the same as the provider's default. A provider configured with assume_role or a profile needs the same here (e.g. AWS_PROFILE)."
  type        = map(string)
  nullable    = false
  default     = {}

  validation {
    condition     = alltrue([for key in keys(var.aws_cli_environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", key))])
    error_message = "aws_cli_environment keys must be environment variable names (letters, digits, '_', not starting with a digit)."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key in this region for the queues, the log group and the alarm topic (its key policy must let CloudWatch Logs, CloudWatch alarms and EventBridge use it); null keeps the services' own encryption. Use the same key as the table's."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "alarm_sns_topic_arn" {
  description = "ARN of an existing SNS topic that every alarm notifies when it fires and when it clears; null creates the topic <name>-alarms (with alarm_emails subscribed)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN or null."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the topic the module creates (each confirms AWS's e-mail once); ignored when alarm_sns_topic_arn is set."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))]) && length(distinct(var.alarm_emails)) == length(var.alarm_emails)
    error_message = "alarm_emails must be distinct e-mail addresses."
  }
}

variable "failures_sns_topic_arn" {
  description = "ARN of an existing SNS topic that receives one message per failure and per crash-loop start and end; null creates the topic <name>-failures (with failure_emails subscribed). Kept apart from the alarms topic: failures of the workloads, not of this logger."
  type        = string
  default     = null

  validation {
    condition     = var.failures_sns_topic_arn == null || can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.failures_sns_topic_arn))
    error_message = "failures_sns_topic_arn must be an SNS topic ARN or null."
  }
}

variable "failure_emails" {
  description = "E-mail addresses subscribed to the failures topic the module creates (each confirms AWS's e-mail once); ignored when failures_sns_topic_arn is set."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for address in var.failure_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))]) && length(distinct(var.failure_emails)) == length(var.failure_emails)
    error_message = "failure_emails must be distinct e-mail addresses."
  }
}

variable "crash_loop_threshold" {
  description = "Failures of one service (or standalone task family) within crash_loop_window_minutes that make a crash loop (one message when it starts, one when it ends); null takes the default in contract.json (3)."
  type        = number
  default     = null

  validation {
    condition     = var.crash_loop_threshold == null || try(var.crash_loop_threshold >= local.contract.crash_loop.threshold.min && var.crash_loop_threshold <= local.contract.crash_loop.threshold.max && floor(var.crash_loop_threshold) == var.crash_loop_threshold, false)
    error_message = "crash_loop_threshold must be a whole number from ${local.contract.crash_loop.threshold.min} to ${local.contract.crash_loop.threshold.max}, or null."
  }
}

variable "crash_loop_window_minutes" {
  description = "Minutes within which crash_loop_threshold failures make a crash loop, and of quiet after which it ends (by the events' own times); null takes the default in contract.json (15)."
  type        = number
  default     = null

  validation {
    condition     = var.crash_loop_window_minutes == null || try(var.crash_loop_window_minutes >= local.contract.crash_loop.window_minutes.min && var.crash_loop_window_minutes <= local.contract.crash_loop.window_minutes.max && floor(var.crash_loop_window_minutes) == var.crash_loop_window_minutes, false)
    error_message = "crash_loop_window_minutes must be a whole number from ${local.contract.crash_loop.window_minutes.min} to ${local.contract.crash_loop.window_minutes.max}, or null."
  }
}

variable "crash_loop_sweep_minutes" {
  description = "How often a schedule invokes the function to end crash loops that have been quiet for the window (no event arrives to tell it): a loop's end is announced at most this late."
  type        = number
  default     = 5

  validation {
    condition     = var.crash_loop_sweep_minutes >= 1 && var.crash_loop_sweep_minutes <= 60 && floor(var.crash_loop_sweep_minutes) == var.crash_loop_sweep_minutes
    error_message = "crash_loop_sweep_minutes must be a whole number of minutes from 1 to 60."
  }
}

variable "alarm_period_seconds" {
  description = "Period over which each loss alarm sums or maximises its metric (a multiple of 60 s)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60, at least 60."
  }
}

variable "queue_age_alarm_seconds" {
  description = "Age of the oldest message in either queue that raises its age alarm (at most half of queue_message_retention_seconds; default 3 days)."
  type        = number
  default     = 259200

  validation {
    condition     = var.queue_age_alarm_seconds >= 300 && floor(var.queue_age_alarm_seconds) == var.queue_age_alarm_seconds
    error_message = "queue_age_alarm_seconds must be a whole number of seconds, at least 300."
  }
}

variable "silence_alarm_enabled" {
  description = "Alarm when the function is not invoked for silence_period_seconds (the rule disabled, its permission removed); turn off in a region without ECS activity."
  type        = bool
  default     = true
}

variable "silence_period_seconds" {
  description = "How long without a single invocation raises the silence alarm (3600-86400 s, a multiple of 60)."
  type        = number
  default     = 86400

  validation {
    condition     = var.silence_period_seconds >= 3600 && var.silence_period_seconds <= 86400 && var.silence_period_seconds % 60 == 0
    error_message = "silence_period_seconds must be a multiple of 60 from 3600 to 86400 (CloudWatch evaluates at most one day)."
  }
}

variable "written_with_warnings_alarm_threshold" {
  description = "Events written with warnings within one hour that raise the written-with-warnings alarm."
  type        = number
  default     = 10

  validation {
    condition     = var.written_with_warnings_alarm_threshold >= 1 && floor(var.written_with_warnings_alarm_threshold) == var.written_with_warnings_alarm_threshold
    error_message = "written_with_warnings_alarm_threshold must be a whole number >= 1."
  }
}

variable "table_index_names" {
  description = "Global secondary indexes of the table (the audit-table module's index_names output); each gets a write-throttle alarm."
  type        = list(string)
  nullable    = false
  default     = []
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
