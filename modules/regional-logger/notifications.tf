################################################################################
# Who is told: the region's alarm topic
################################################################################

# Created unless a topic is passed in, so an alarm can never be left without an action.
resource "aws_sns_topic" "this" {
  #checkov:skip=CKV_AWS_26:Encrypted with var.kms_key_arn when set; the AWS-managed SNS key cannot be used, because its key policy does not let CloudWatch alarms publish.
  count = var.alarm_sns_topic_arn == null ? 1 : 0

  name              = "${var.name}-alarms"
  display_name      = "ecs-state-logger ${var.name} alarms"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

# Each address gets a confirmation e-mail from AWS; it is notified once it confirms.
resource "aws_sns_topic_subscription" "email" {
  for_each = var.alarm_sns_topic_arn == null ? toset(var.alarm_emails) : toset([])

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}
