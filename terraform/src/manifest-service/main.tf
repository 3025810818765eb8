# The manifest service: ECS Fargate tasks of the repository's image behind an internal ALB, over
# an RDS PostgreSQL database with automated backups. The tokens file comes from Secrets Manager
# (PIPELINELIB_TOKENS, written to a 0600 file by the image's entrypoint); the database password
# is the RDS-managed secret (PGPASSWORD). Nothing here is reachable from the internet.

locals {
  build  = lookup(var.service_builds, "manifest-service", null)
  digest = lookup(var.image_digests, "manifest-service", null)
  image  = local.digest != null ? "${var.image_repository}@${local.digest}" : "${var.image_repository}:${coalesce(local.build, "unset")}"
  port   = 8080
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# --- network -----------------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Internal ALB of ${var.name}: HTTPS from the Jenkins networks"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTPS from Jenkins"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidr_blocks
  }

  egress {
    description     = "to the tasks"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = [aws_security_group.tasks.id]
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: the service port from the ALB only"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to ECR, Secrets Manager and CloudWatch Logs (VPC endpoints or NAT)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "tasks_from_alb" {
  description              = "service port from the ALB"
  type                     = "ingress"
  security_group_id        = aws_security_group.tasks.id
  from_port                = local.port
  to_port                  = local.port
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.alb.id
}

resource "aws_security_group_rule" "tasks_to_db" {
  description              = "PostgreSQL"
  type                     = "egress"
  security_group_id        = aws_security_group.tasks.id
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.db.id
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "PostgreSQL of ${var.name}: from the tasks only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "PostgreSQL from the tasks"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.tasks.id]
  }
}

# --- database ----------------------------------------------------------------------------------

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.private_subnet_ids
}

resource "aws_db_parameter_group" "this" {
  name   = var.name
  family = "postgres16"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

resource "aws_db_instance" "this" {
  identifier                            = var.name
  engine                                = "postgres"
  engine_version                        = "16"
  instance_class                        = var.db_instance_class
  allocated_storage                     = var.db_allocated_storage
  max_allocated_storage                 = var.db_allocated_storage * 4
  storage_type                          = "gp3"
  storage_encrypted                     = true
  kms_key_id                            = var.kms_key_arn
  db_name                               = "pipelinelib"
  username                              = "pipelinelib"
  manage_master_user_password           = true
  master_user_secret_kms_key_id         = var.kms_key_arn
  db_subnet_group_name                  = aws_db_subnet_group.this.name
  parameter_group_name                  = aws_db_parameter_group.this.name
  vpc_security_group_ids                = [aws_security_group.db.id]
  multi_az                              = true
  publicly_accessible                   = false
  backup_retention_period               = var.db_backup_retention_days
  backup_window                         = "17:00-18:00"
  maintenance_window                    = "sun:18:30-sun:19:30"
  copy_tags_to_snapshot                 = true
  deletion_protection                   = true
  skip_final_snapshot                   = false
  final_snapshot_identifier             = "${var.name}-final"
  auto_minor_version_upgrade            = true
  iam_database_authentication_enabled   = true
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.rds_monitoring.arn
  apply_immediately                     = false
  performance_insights_retention_period = 7
}

# --- secrets -----------------------------------------------------------------------------------

# The tokens file's content (one `TOKEN SCOPE[,SCOPE]` per line, docs/operations.md). Terraform
# creates the secret; its value is put outside Terraform so no token lands in the state:
#   aws secretsmanager put-secret-value --secret-id manifest-service/tokens --secret-string file://tokens
resource "aws_secretsmanager_secret" "tokens" {
  #checkov:skip=CKV2_AWS_57:Tokens are rotated by people (docs/operations.md "Tokens"), not by a Lambda.
  name                    = "${var.name}/tokens"
  description             = "Bearer tokens of ${var.name} (TOKEN SCOPE lines)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 30
}

# --- IAM: least privilege ----------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Pulls the image, writes the logs and reads exactly the two secrets the task is given.
resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PullImage"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the action has no resource-level permissions
  }
  statement {
    sid       = "PullFromTheRepository"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["arn:${data.aws_partition.current.partition}:ecr:${var.region}:${split(".", var.image_repository)[0]}:repository/${split("/", var.image_repository)[1]}"]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "ReadTheTwoSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.tokens.arn, aws_db_instance.this.master_user_secret[0].secret_arn]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "DecryptTheSecrets"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The service itself calls no AWS API: its task role has no permissions at all.
resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "rds_monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "rds_monitoring" {
  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.rds_monitoring_assume.json
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# --- the service -------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # Writable scratch on a read-only root filesystem: gunicorn's heartbeat files and the tokens file.
  volume {
    name = "tmp"
  }
  volume {
    name = "run"
  }

  container_definitions = templatefile("${path.module}/container-definitions.json.tftpl", {
    name              = var.name
    image             = local.image
    port              = local.port
    region            = var.region
    log_group         = aws_cloudwatch_log_group.this.name
    database_url      = "postgresql://pipelinelib@${aws_db_instance.this.address}:${aws_db_instance.this.port}/pipelinelib?sslmode=verify-full&sslrootcert=system"
    tokens_secret_arn = aws_secretsmanager_secret.tokens.arn
    db_password_from  = "${aws_db_instance.this.master_user_secret[0].secret_arn}:password::"
  })

  lifecycle {
    precondition {
      condition     = local.digest != null || local.build != null
      error_message = "No image for manifest-service: pass --import-dir with its build (service_builds) or image_digests."
    }
  }
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:Internal ALB reachable only from the Jenkins networks; a WAF adds nothing the security group does not.
  #checkov:skip=CKV_AWS_91:Access logs need an S3 bucket per account; the service writes its own JSON access log.
  name                       = var.name
  internal                   = true
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.private_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = true
  idle_timeout               = 60
}

resource "aws_lb_target_group" "this" {
  name                 = var.name
  port                 = local.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 20

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_ecs_service" "this" {
  name                               = var.name
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 30
  enable_execute_command             = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.name
    container_port   = local.port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.https]
}
