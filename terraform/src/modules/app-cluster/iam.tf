# The task execution role: pulls images, writes logs, and reads exactly the secrets the services
# name (ECS resolves `valueFrom` with this role, not the task role).

locals {
  secret_arns = sort(distinct(flatten([for service in values(var.services) : values(service.secrets)])))
  # A Secrets Manager valueFrom may end in :json-key:version-stage:version-id; IAM wants the secret.
  ssm_parameter_arns = [for arn in local.secret_arns : arn if split(":", arn)[2] == "ssm"]
  secrets_manager_arns = distinct([
    for arn in local.secret_arns : join(":", slice(split(":", arn), 0, 7))
    if split(":", arn)[2] == "secretsmanager"
  ])

  task_execution_role_arn  = var.task_execution_role_arn != null ? var.task_execution_role_arn : aws_iam_role.task_execution[0].arn
  task_execution_role_name = var.task_execution_role_arn != null ? reverse(split("/", var.task_execution_role_arn))[0] : aws_iam_role.task_execution[0].name
}

data "aws_iam_policy_document" "task_execution_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "task_execution" {
  count = var.task_execution_role_arn == null ? 1 : 0

  name               = "${var.cluster_name}-task-execution"
  assume_role_policy = data.aws_iam_policy_document.task_execution_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "task_execution" {
  count = var.task_execution_role_arn == null ? 1 : 0

  role       = aws_iam_role.task_execution[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "secrets" {
  dynamic "statement" {
    for_each = length(local.ssm_parameter_arns) > 0 ? [1] : []

    content {
      sid       = "ReadServiceParameters"
      actions   = ["ssm:GetParameters"]
      resources = local.ssm_parameter_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.secrets_manager_arns) > 0 ? [1] : []

    content {
      sid       = "ReadServiceSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secrets_manager_arns
    }
  }
}

resource "aws_iam_role_policy" "secrets" {
  count = length(local.secret_arns) > 0 ? 1 : 0

  name   = "${var.cluster_name}-secrets"
  role   = local.task_execution_role_name
  policy = data.aws_iam_policy_document.secrets.json
}
