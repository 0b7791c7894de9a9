# The modules validate their inputs; this wiring passes them through unchecked so that each
# rule is stated once, in the module that needs it.

variable "inputs" {
  description = "This region's settings, computed for every region in ../main.tf (local.region_inputs): nothing here depends on a table."
  type = object({
    name                      = string
    create_table              = bool
    create_replica            = bool
    replica_regions           = list(string)
    deletion_protection       = bool
    kms_key_arn               = string
    max_write_request_units   = number
    package_path              = string
    architecture              = string
    memory_size               = number
    retention_days            = number
    log_retention_days        = number
    tracing_mode              = string
    reserved_concurrency      = number
    detail_types              = list(string)
    alarm_sns_topic_arn       = string
    alarm_emails              = list(string)
    failures_sns_topic_arn    = string
    failure_emails            = list(string)
    crash_loop_threshold      = number
    crash_loop_window_minutes = number
    silence_alarm_enabled     = bool
    silence_period_seconds    = number
    aws_cli_environment       = map(string)
  })
}

# Kept apart from inputs: these come from the tables' outputs (a region's function may write
# to the primary region's global table), and the table itself must not wait on them.
variable "tables" {
  description = "What this region's logger and replica need from the environment's tables (../main.tf, local.region_tables_wiring)."
  type = object({
    table_arn         = string
    global_table_arn  = string
    table_index_names = list(string)
  })
}
