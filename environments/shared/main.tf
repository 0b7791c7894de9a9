# Shared by every environment root (linked into environments/<env>/). The per-region provider
# blocks and module calls are in regions.tf.json, generated from var.regions by
# scripts/gen-regions.py, because Terraform cannot create providers with for_each.

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

  kms_key_arns         = { for region in var.regions : region => lookup(var.kms_key_arns, region, null) }
  alarm_sns_topic_arns = { for region in var.regions : region => lookup(var.alarm_sns_topic_arns, region, null) }
  silence_alarm        = { for region in var.regions : region => !contains(var.silence_alarm_off_regions, region) }
}

check "regions_are_generated" {
  assert {
    condition     = local.generated_regions == var.regions
    error_message = "regions.tf.json was generated for ${join(", ", local.generated_regions)} but regions is ${join(", ", var.regions)}: run python3 scripts/gen-regions.py ${local.environment} (make plan/deploy do it for you)."
  }
}
