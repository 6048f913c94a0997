# The seed's SQS: the event relay publishes every outbox event to one FIFO queue
# (EVENT_BUS_URL=sqs://bazaar-events-<env>.fifo), grouped by aggregate so one order's events
# stay in order, de-duplicated by event id. Messages a consumer fails on five times move to
# the dead-letter queue, kept 14 days. Both queues are encrypted with the data key (data.tf).

resource "aws_sqs_queue" "events_dlq" {
  name                              = "bazaar-events-${var.environment}-dlq.fifo"
  fifo_queue                        = true
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.data.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_sqs_queue" "events" {
  name       = "bazaar-events-${var.environment}.fifo"
  fifo_queue = true
  # The relay sends its own de-duplication id (the outbox event id), never the body's hash.
  content_based_deduplication = false
  # Ordering and de-duplication per message group, so groups do not wait on each other.
  deduplication_scope               = "messageGroup"
  fifo_throughput_limit             = "perMessageGroupId"
  message_retention_seconds         = 1209600
  visibility_timeout_seconds        = 60
  kms_master_key_id                 = aws_kms_key.data.arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dlq.arn
    maxReceiveCount     = 5
  })
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "PublishEvents"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
    resources = [aws_sqs_queue.events.arn]
  }
  statement {
    sid       = "EncryptEvents"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.data.arn]
  }
}

resource "aws_iam_policy" "events" {
  name   = "${local.name}-events"
  policy = data.aws_iam_policy_document.events.json
}
