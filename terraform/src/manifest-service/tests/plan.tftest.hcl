# `terraform test` of the manifest-service stack with a mocked AWS provider (nothing is called).
# Run by tests/integration/test_manifest_service_stack.py with the machine's provider mirror.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_lb" {
    defaults = { arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:loadbalancer/app/manifest-service/0123456789abcdef", dns_name = "internal-manifest-service.elb.amazonaws.com" }
  }
  mock_resource "aws_lb_target_group" {
    defaults = { arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:targetgroup/manifest-service/0123456789abcdef" }
  }
  mock_resource "aws_lb_listener" {
    defaults = { arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:listener/app/manifest-service/0123456789abcdef/0123456789abcdef" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/manifest-service" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:manifest-service/tokens-AbCdEf" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:ap-southeast-2:111111111111:log-group:/ecs/manifest-service" }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = { arn = "arn:aws:ecs:ap-southeast-2:111111111111:cluster/manifest-service", id = "arn:aws:ecs:ap-southeast-2:111111111111:cluster/manifest-service" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = { arn = "arn:aws:ecs:ap-southeast-2:111111111111:task-definition/manifest-service:1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

override_resource {
  target = aws_db_instance.this
  values = {
    address = "manifest-service.c0ffee.ap-southeast-2.rds.amazonaws.com"
    port    = 5432
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:rds!db-0000"
      kms_key_id    = "alias/aws/secretsmanager"
      secret_status = "active"
    }]
  }
}

variables {
  region              = "ap-southeast-2"
  image_repository    = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/pipelinelib-service"
  vpc_id              = "vpc-0a1b2c3d4e5f60009"
  private_subnet_ids  = ["subnet-09a0000000000001", "subnet-09a0000000000002"]
  allowed_cidr_blocks = ["10.20.0.0/16"]
  certificate_arn     = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000009"
}

run "image_pinned_by_digest_runs_read_only_as_non_root" {
  command = apply # against the mocked provider: computed values become known

  variables {
    service_builds = { "manifest-service" = "42" }
    image_digests  = { "manifest-service" = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].image == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/pipelinelib-service@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "the image must be pinned by its digest"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem && jsondecode(aws_ecs_task_definition.this.container_definitions)[0].user == "10001:10001"
    error_message = "read-only root filesystem, non-root user"
  }
  assert {
    condition     = aws_lb.this.internal && aws_db_instance.this.backup_retention_period == 14 && aws_db_instance.this.storage_encrypted
    error_message = "internal ALB, RDS with backups, encrypted"
  }
  assert {
    condition     = [for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name] == ["PIPELINELIB_TOKENS", "PGPASSWORD"]
    error_message = "the tokens file and the database password come from Secrets Manager"
  }
}

run "build_number_without_digest_uses_the_tag" {
  command = apply

  variables {
    service_builds = { "manifest-service" = "42" }
  }

  assert {
    condition     = endswith(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].image, "pipelinelib-service:42")
    error_message = "the imported build's tag"
  }
}

run "no_imported_build_is_refused" {
  command         = plan
  expect_failures = [aws_ecs_task_definition.this]
}

run "the_internet_is_refused" {
  command = plan

  variables {
    service_builds      = { "manifest-service" = "42" }
    allowed_cidr_blocks = ["0.0.0.0/0"]
  }

  expect_failures = [var.allowed_cidr_blocks]
}
