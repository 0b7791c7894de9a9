# Shared by every environment root (linked into environments/<env>/). Everything a region
# needs is computed here, once, for every region; the generated regions.tf.json only adds
# what Terraform cannot loop over: one provider and one call of ./region per region (written
# by scripts/gen-regions.py from the environment's region list).

locals {
  use_endpoint = var.aws_endpoint_url != null

  # The AWS CLI that raises the queues' message size (modules/regional-logger) reaches the
  # local AWS API the way the provider does; against AWS it gets nothing and uses the default
  # credential chain, as the provider does here.
  aws_cli_environment = local.use_endpoint ? {
    AWS_ENDPOINT_URL      = var.aws_endpoint_url
    AWS_ACCESS_KEY_ID     = "test"
    AWS_SECRET_ACCESS_KEY = "test"
  } : {}

  # With a global table only the primary region creates a table; the others get replicas.
  table_regions   = var.global_table ? [var.primary_region] : var.regions
  replica_regions = var.global_table ? [for region in var.regions : region if region != var.primary_region] : []

  # Each region's settings: the input of its ./region call (module.region_<region>).
  region_inputs = {
    for region in var.regions : region => {
      name                      = var.name
      create_table              = contains(local.table_regions, region)
      create_replica            = contains(local.replica_regions, region)
      replica_regions           = local.replica_regions
      deletion_protection       = var.deletion_protection
      kms_key_arn               = lookup(var.kms_key_arns, region, null)
      max_write_request_units   = var.max_write_request_units
      package_path              = var.package_path
      architecture              = var.architecture
      memory_size               = var.memory_size
      retention_days            = var.retention_days
      log_retention_days        = var.log_retention_days
      tracing_mode              = var.tracing_mode
      reserved_concurrency      = var.reserved_concurrency
      detail_types              = var.detail_types
      alarm_sns_topic_arn       = lookup(var.alarm_sns_topic_arns, region, null)
      alarm_emails              = var.notification_emails
      failures_sns_topic_arn    = lookup(var.failures_sns_topic_arns, region, null)
      failure_emails            = var.failure_emails
      crash_loop_threshold      = var.crash_loop_threshold
      crash_loop_window_minutes = var.crash_loop_window_minutes
      silence_alarm_enabled     = !contains(var.silence_alarm_off_regions, region)
      silence_period_seconds    = var.silence_period_seconds
      aws_cli_environment       = local.aws_cli_environment
    }
  }

  # The tables, as every region's wiring reports them (local.region_tables, generated):
  # with a global table only the primary region's holds one, and it names the replicas too.
  table_arns_by_region = merge([for table in values(local.region_tables) : table.arns_by_region]...)
  table_index_names    = distinct(flatten([for table in values(local.region_tables) : table.index_names]))
  region_tables_wiring = {
    for region in var.regions : region => {
      table_arn         = local.table_arns_by_region[region]
      global_table_arn  = var.global_table ? local.region_tables[var.primary_region].arn : null
      table_index_names = local.table_index_names
    }
  }
}

check "regions_are_generated" {
  assert {
    condition     = local.generated_regions == var.regions
    error_message = "regions.tf.json was generated for ${join(", ", local.generated_regions)} but regions is ${join(", ", var.regions)}: run python3 scripts/gen-regions.py ${local.environment} (make plan/deploy do it for you)."
  }
}
