data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  region = data.aws_region.current.name

  # Table names cannot contain "/", so the name is whatever follows "table/".
  table_name = element(split("/", var.table_arn), 1)

  # IAM is global: the region keeps one environment's roles apart.
  role_name = "${var.name}-${local.region}"

  log_group_name = "/aws/lambda/${var.name}"

  # The queue names and the retention bounds are shared with the Rust code (contract.json).
  contract                 = jsondecode(file("${path.module}/contract.json"))
  failed_events_queue_name = replace(local.contract.queue_names.failed_events, "{name}", var.name)
  delivery_dlq_name        = replace(local.contract.queue_names.delivery_dlq, "{name}", var.name)
  detail_types             = var.detail_types != null ? var.detail_types : local.contract.detail_types

  # Every alarm tells someone: the topic passed in, or the module's own.
  alarm_topic_arn = var.alarm_sns_topic_arn == null ? aws_sns_topic.this[0].arn : var.alarm_sns_topic_arn

  # Every failure is told: the topic passed in, or the module's own. The own topic's ARN is
  # the one SNS gives it (arn:<partition>:sns:<region>:<account>:<name>), written out so the
  # function's environment is known when planning (a reviewer sees every variable); the
  # account is the table's.
  account_id             = element(split(":", var.table_arn), 4)
  own_failures_topic_arn = "arn:${data.aws_partition.current.partition}:sns:${local.region}:${local.account_id}:${var.name}-failures"
  failures_topic_arn     = var.failures_sns_topic_arn == null ? local.own_failures_topic_arn : var.failures_sns_topic_arn

  # null takes the contract's default, so the default has one home (contract.json).
  crash_loop_threshold      = coalesce(var.crash_loop_threshold, local.contract.crash_loop.threshold.default)
  crash_loop_window_minutes = coalesce(var.crash_loop_window_minutes, local.contract.crash_loop.window_minutes.default)

  kms_via_services = [
    "dynamodb.${local.region}.${data.aws_partition.current.dns_suffix}",
    "sqs.${local.region}.${data.aws_partition.current.dns_suffix}",
    "sns.${local.region}.${data.aws_partition.current.dns_suffix}",
  ]
}

################################################################################
# Function
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days; the audit trail itself lives in DynamoDB, these are operational logs.
  #checkov:skip=CKV_AWS_158:Encrypted with a customer key only when var.kms_key_arn is set; CloudWatch Logs encrypts at rest otherwise.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls regional AWS APIs; a VPC would add NAT or endpoints and cold-start cost for no isolation gain.
  #checkov:skip=CKV_AWS_272:Code signing needs a signer profile per account; the package is built and hashed (source_code_hash) by the deploy itself.
  #checkov:skip=CKV_AWS_173:The environment holds only the table and topic names and a few numbers, no secrets; Lambda encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_116:Failed asynchronous invocations go to the on-failure destination (aws_lambda_function_event_invoke_config), which records more than a DLQ.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is var.reserved_concurrency; null leaves the function in the account's unreserved pool by design.
  #checkov:skip=CKV_AWS_50:Tracing mode is var.tracing_mode; Active costs per trace and is opt-in.
  function_name    = var.name
  description      = "ecs-state-logger: records ECS state-change events in ${local.table_name}"
  role             = aws_iam_role.this.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  memory_size      = var.memory_size
  timeout          = var.timeout
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)

  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  environment {
    variables = {
      TABLE_NAME                = local.table_name
      RETENTION_DAYS            = tostring(var.retention_days)
      FAILURES_TOPIC_ARN        = local.failures_topic_arn
      CRASH_LOOP_THRESHOLD      = tostring(local.crash_loop_threshold)
      CRASH_LOOP_WINDOW_MINUTES = tostring(local.crash_loop_window_minutes)
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The first invocations must find their log group, permissions and failures topic in place
  # (the topic's ARN is written out in locals, which makes no dependency of its own).
  depends_on = [aws_iam_role_policy.this, aws_sns_topic.failures]

  lifecycle {
    precondition {
      condition     = split(":", var.table_arn)[3] == local.region
      error_message = "table_arn is in ${split(":", var.table_arn)[3]}, but the function is in ${local.region}: pass the table or replica of its own region."
    }
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.function_max_retry_attempts
  maximum_event_age_in_seconds = var.function_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed_events.arn
    }
  }

  # Nothing is parked in the queue before it takes the largest event.
  depends_on = [terraform_data.queue_max_message_size]
}

################################################################################
# Execution role
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = "ecs-state-logger function ${var.name} in ${local.region}"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.role_name) <= 64
      error_message = "The role name ${local.role_name} is longer than IAM's 64 characters: shorten name."
    }
  }
}

data "aws_iam_policy_document" "this" {
  # Duplicates are refused by a condition expression, which PutItem itself evaluates.
  statement {
    sid       = "WriteAuditRecords"
    actions   = ["dynamodb:PutItem"]
    resources = [var.table_arn]
  }

  # Crash-loop episodes and the claims that make each message exactly once are conditional
  # updates; the sweep queries the one partition of open loops. Neither reaches an index.
  statement {
    sid       = "TrackCrashLoops"
    actions   = ["dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [var.table_arn]
  }

  statement {
    sid       = "PublishFailures"
    actions   = ["sns:Publish"]
    resources = [local.failures_topic_arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
  }

  # Lambda sends the on-failure record with the function's own role.
  statement {
    sid       = "RecordFailedInvocations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failed_events.arn]
  }

  # X-Ray has no resource-level permissions: "*" is the only resource these actions accept.
  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid       = "WriteTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  # The table, the failure queue and the failures topic encrypt with the customer key; only
  # those services may use it on the function's behalf.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseCustomerKeyThroughServices"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = local.kms_via_services
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "ecs-state-logger"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

################################################################################
# Event delivery
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  name        = var.name
  description = "ECS state changes for ecs-state-logger (${join(", ", local.detail_types)})"
  # The default bus is where AWS services publish.
  event_bus_name = "default"

  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = local.detail_types
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule      = aws_cloudwatch_event_rule.this.name
  target_id = "ecs-state-logger"
  arn       = aws_lambda_function.this.arn

  retry_policy {
    maximum_event_age_in_seconds = var.delivery_max_event_age_seconds
    maximum_retry_attempts       = var.delivery_max_retry_attempts
  }

  # Events EventBridge could not hand to Lambda at all (e.g. the function was throttled or
  # missing); invocation failures go to the function's own on-failure queue instead.
  dead_letter_config {
    arn = aws_sqs_queue.delivery_dlq.arn
  }

  depends_on = [aws_sqs_queue_policy.delivery_dlq]
}

resource "aws_lambda_permission" "this" {
  statement_id  = "ecs-state-logger-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}

################################################################################
# Queues for what could not be recorded
################################################################################

# Since 2026-01-29 EventBridge events and asynchronous Lambda payloads may be up to 1 MB, so
# both queues must take 1 MiB messages (SQS's maximum since August 2025). The AWS provider
# this module is limited to (5.x; 5.100 is the last) refuses max_message_size above 262144 and
# sends 262144 when the argument is left out. So Terraform creates each queue with what the
# provider sends, ignores that attribute afterwards, and a terraform_data below raises it to
# var.queue_max_message_size with the AWS CLI. With provider >= 6.x, which accepts 1 MiB:
# set max_message_size = var.queue_max_message_size on both queues, drop ignore_changes and
# remove terraform_data.queue_max_message_size and var.aws_cli_environment.

resource "aws_sqs_queue" "failed_events" {
  name                      = local.failed_events_queue_name
  message_retention_seconds = var.queue_message_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags

  lifecycle {
    # Set by terraform_data.queue_max_message_size["failed_events"].
    ignore_changes = [max_message_size]
  }
}

resource "aws_sqs_queue" "delivery_dlq" {
  name                      = local.delivery_dlq_name
  message_retention_seconds = var.queue_message_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags

  lifecycle {
    # Set by terraform_data.queue_max_message_size["delivery_dlq"].
    ignore_changes = [max_message_size]
  }
}

resource "terraform_data" "queue_max_message_size" {
  for_each = {
    failed_events = aws_sqs_queue.failed_events
    delivery_dlq  = aws_sqs_queue.delivery_dlq
  }

  # A new queue (its ARN is unknown until it exists) or a new size runs the command again.
  triggers_replace = [each.value.arn, var.queue_max_message_size]

  # The CLI finds credentials as the provider does (environment, profile, instance or task
  # role) unless var.aws_cli_environment says otherwise. The values reach the command as
  # environment variables, so the shell reads none of them as code.
  provisioner "local-exec" {
    # AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS (it pins SQS's legacy host names), so an
    # endpoint the provider would honour is passed as --endpoint-url.
    command = <<-EOT
      endpoint="$${AWS_ENDPOINT_URL_SQS:-$${AWS_ENDPOINT_URL:-}}"
      aws sqs set-queue-attributes --queue-url "$QUEUE_URL" --attributes "MaximumMessageSize=$MAX_MESSAGE_SIZE" --region "$QUEUE_REGION" $${endpoint:+--endpoint-url "$endpoint"}
    EOT
    environment = merge(var.aws_cli_environment, {
      QUEUE_URL        = each.value.url
      QUEUE_REGION     = local.region
      MAX_MESSAGE_SIZE = tostring(var.queue_max_message_size)
    })
  }
}

data "aws_iam_policy_document" "delivery_dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery_dlq.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "delivery_dlq" {
  queue_url = aws_sqs_queue.delivery_dlq.id
  policy    = data.aws_iam_policy_document.delivery_dlq.json

  # The size is raised before the policy is set: SQS keeps a policy through a
  # SetQueueAttributes that does not name it, but the local API (moto) clears it, and the
  # provider would then wait for a policy that never appears.
  depends_on = [terraform_data.queue_max_message_size]
}

