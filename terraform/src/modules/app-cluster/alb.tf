resource "aws_lb" "this" {
  name                       = substr("${var.cluster_name}-alb", 0, 32)
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.alb_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = local.tags

  dynamic "access_logs" {
    for_each = var.alb_access_logs.enabled ? [1] : []

    content {
      enabled = true
      bucket  = local.alb_logs_bucket
      prefix  = var.alb_access_logs.prefix
    }
  }

  lifecycle {
    precondition {
      condition     = var.deletion_protection || !contains(["live", "staging"], var.environment_name)
      error_message = "The ${var.environment_name} load balancer keeps deletion protection on: remove deletion_protection = false from its tfvars."
    }
  }

  # The load balancer checks at creation that it may write to the bucket.
  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# --- access logs ---------------------------------------------------------------------------
# Load balancers write with SSE-S3 only (no KMS keys), as the account of the region's
# Elastic Load Balancing service: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html

locals {
  create_alb_logs_bucket = var.alb_access_logs.enabled && var.alb_access_logs.bucket == null
  alb_logs_bucket = (
    !var.alb_access_logs.enabled ? null :
    var.alb_access_logs.bucket != null ? var.alb_access_logs.bucket : aws_s3_bucket.alb_logs[0].id
  )
}

data "aws_elb_service_account" "this" {}

resource "aws_s3_bucket" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket_prefix = "${var.cluster_name}-alb-"
  force_destroy = !var.deletion_protection
  tags          = local.tags
}

resource "aws_s3_bucket_public_access_block" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.alb_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket = aws_s3_bucket.alb_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket = aws_s3_bucket.alb_logs[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket = aws_s3_bucket.alb_logs[0].id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.alb_access_logs.retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  statement {
    sid       = "LoadBalancerWritesAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs[0].arn}/${var.alb_access_logs.prefix}/AWSLogs/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.alb_logs[0].arn, "${aws_s3_bucket.alb_logs[0].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "alb_logs" {
  count = local.create_alb_logs_bucket ? 1 : 0

  bucket = aws_s3_bucket.alb_logs[0].id
  policy = data.aws_iam_policy_document.alb_logs[0].json

  depends_on = [aws_s3_bucket_public_access_block.alb_logs]
}
