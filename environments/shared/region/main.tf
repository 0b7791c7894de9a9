# One region of an environment: its table (or nothing, when the global table lives in another
# region), its replica of the global table (or nothing), and its logger. Every environment
# root calls this once per region from its generated regions.tf.json, with the provider of
# that region; the inputs are computed once, for every region, in ../main.tf.

module "table" {
  source = "../../../modules/audit-table"
  count  = var.inputs.create_table ? 1 : 0

  name                    = var.inputs.name
  deletion_protection     = var.inputs.deletion_protection
  kms_key_arn             = var.inputs.kms_key_arn
  replica_regions         = var.inputs.replica_regions
  max_write_request_units = var.inputs.max_write_request_units
  alarm_sns_topic_arn     = module.logger.alarm_topic_arn
}

module "replica" {
  source = "../../../modules/audit-table-replica"
  count  = var.inputs.create_replica ? 1 : 0

  global_table_arn    = var.tables.global_table_arn
  deletion_protection = var.inputs.deletion_protection
  kms_key_arn         = var.inputs.kms_key_arn
}

module "logger" {
  source = "../../../modules/regional-logger"

  name                      = var.inputs.name
  table_arn                 = var.tables.table_arn
  package_path              = var.inputs.package_path
  architecture              = var.inputs.architecture
  memory_size               = var.inputs.memory_size
  retention_days            = var.inputs.retention_days
  log_retention_days        = var.inputs.log_retention_days
  tracing_mode              = var.inputs.tracing_mode
  reserved_concurrency      = var.inputs.reserved_concurrency
  detail_types              = var.inputs.detail_types
  kms_key_arn               = var.inputs.kms_key_arn
  alarm_sns_topic_arn       = var.inputs.alarm_sns_topic_arn
  alarm_emails              = var.inputs.alarm_emails
  failures_sns_topic_arn    = var.inputs.failures_sns_topic_arn
  failure_emails            = var.inputs.failure_emails
  crash_loop_threshold      = var.inputs.crash_loop_threshold
  crash_loop_window_minutes = var.inputs.crash_loop_window_minutes
  silence_alarm_enabled     = var.inputs.silence_alarm_enabled
  silence_period_seconds    = var.inputs.silence_period_seconds
  table_index_names         = var.tables.table_index_names
  aws_cli_environment       = var.inputs.aws_cli_environment
}
