# terraform test with the real hashicorp/aws schema and mocked answers: what one environment of
# two services creates, the task definitions it renders, and every validation rule and
# precondition. Run by tests/integration/test_terraform_modules.py (`terraform test`).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_ssm_parameter" {
    defaults = {
      value = "ami-0123456789abcdef0"
    }
  }

  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::783225319266:root"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/appcluster-test-task-execution"
    }
  }

  # Resources whose ARNs other resources validate: mocked with ARNs of the right shape.
  mock_resource "aws_lb" {
    defaults = {
      arn      = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:loadbalancer/app/appcluster-test-alb/0123456789abcdef"
      dns_name = "appcluster-test-alb-123.ap-southeast-2.elb.amazonaws.com"
      zone_id  = "Z1GM3OXH4ZPM65"
    }
  }

  mock_resource "aws_lb_listener" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:listener/app/appcluster-test-alb/0123456789abcdef/0123456789abcdef"
    }
  }

  mock_resource "aws_lb_target_group" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:targetgroup/servic/0123456789abcdef"
    }
  }

  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::111111111111:instance-profile/appcluster-test-instance"
    }
  }

  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }

  mock_resource "aws_autoscaling_group" {
    defaults = {
      arn = "arn:aws:autoscaling:ap-southeast-2:111111111111:autoScalingGroup:0-1-2:autoScalingGroupName/appcluster-test-1"
    }
  }

  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:ap-southeast-2:111111111111:task-definition/appcluster-test-service1:1"
    }
  }

  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:ap-southeast-2:111111111111:cluster/appcluster-test"
    }
  }

  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "appcluster-test-alb-20261129"
      arn = "arn:aws:s3:::appcluster-test-alb-20261129"
    }
  }
}

variables {
  cluster_name             = "appcluster-test"
  environment_name         = "test"
  region                   = "ap-southeast-2"
  vpc_id                   = "vpc-0a1b2c3d4e5f60001"
  alb_subnet_ids           = ["subnet-01a0000000000001", "subnet-01a0000000000002"]
  instance_subnet_ids      = ["subnet-01b0000000000001", "subnet-01b0000000000002"]
  certificate_arn          = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000001"
  hosted_zone_id           = "Z0123456789ABCDEFGHIJ"
  dns_name                 = "test.apps.example.com"
  instance_type            = "t3.large"
  cluster_min_size         = 1
  cluster_max_size         = 3
  cluster_desired_capacity = 1
  task_role_arn            = "arn:aws:iam::111111111111:role/appcluster-test-task"
  deletion_protection      = false
  common_environment       = { ENVIRONMENT = "test", LOG_LEVEL = "warn" }

  services = {
    service1 = {
      image_repository = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1"
      cpu              = 256
      memory           = 512
      container_port   = 8080
      max_count        = 3
      path_pattern     = "/*"
      priority         = 100
      environment      = { LOG_LEVEL = "info" }
      secrets = {
        DATABASE_PASSWORD = "arn:aws:ssm:ap-southeast-2:111111111111:parameter/appcluster-test/service1/database-password"
        API_KEY           = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:service1/api-AbCdEf:key::"
      }
    }
    order-api = {
      image_repository         = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api"
      cpu                      = 128
      memory                   = 256
      container_port           = 8081
      path_pattern             = "/orders*"
      priority                 = 10
      readonly_root_filesystem = false
      user                     = ""
    }
  }

  service_builds = { service1 = "90", order-api = "7" }
  service_images = {
    service1 = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  }
}

run "one_set_of_resources_per_service" {
  command = apply

  assert {
    condition     = toset(keys(aws_ecs_service.service)) == toset(["order-api", "service1"])
    error_message = "one ECS service per entry of services"
  }

  assert {
    condition = alltrue([
      length(aws_lb_target_group.service) == 2,
      length(aws_lb_listener_rule.service) == 2,
      length(aws_ecs_task_definition.service) == 2,
      length(aws_appautoscaling_target.service) == 2,
      length(aws_appautoscaling_policy.service_cpu) == 2,
      length(aws_cloudwatch_log_group.service) == 2,
    ])
    error_message = "every per-service resource exists once per service"
  }

  assert {
    condition     = aws_lb_listener_rule.service["order-api"].priority == 10 && aws_lb_listener_rule.service["service1"].priority == 100
    error_message = "listener rules keep their configured priorities"
  }

  assert {
    condition     = aws_appautoscaling_target.service["service1"].min_capacity == 1 && aws_appautoscaling_target.service["service1"].max_capacity == 3 && aws_appautoscaling_target.service["order-api"].max_capacity == 2
    error_message = "min_count and max_count (optional, defaults 1 and 2) bound autoscaling"
  }

  assert {
    condition     = aws_lb_target_group.service["service1"].health_check[0].path == "/healthz"
    error_message = "health_check_path defaults to /healthz"
  }

  assert {
    condition     = aws_cloudwatch_log_group.service["order-api"].name == "/ecs/appcluster-test/order-api"
    error_message = "each service logs to /ecs/<cluster>/<service>"
  }
}

run "task_definition_runs_the_verified_image" {
  command = apply

  assert {
    condition     = jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].image == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    error_message = "an imported image with a digest is deployed by that digest"
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.service["order-api"].container_definitions)[0].image == "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/order-api:7"
    error_message = "without an imported image the repository is used at the imported build"
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].secrets == [
      { name = "API_KEY", valueFrom = "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:service1/api-AbCdEf:key::" },
      { name = "DATABASE_PASSWORD", valueFrom = "arn:aws:ssm:ap-southeast-2:111111111111:parameter/appcluster-test/service1/database-password" },
    ]
    error_message = "secrets render as valueFrom, sorted by name"
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].environment == [{ name = "ENVIRONMENT", value = "test" }, { name = "LOG_LEVEL", value = "info" }]
    error_message = "common environment merged under the service's own values"
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].readonlyRootFilesystem == true && jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].user == "1000:1000"
    error_message = "containers run read-only as a non-root user by default"
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.service["order-api"].container_definitions)[0].readonlyRootFilesystem == false && !contains(keys(jsondecode(aws_ecs_task_definition.service["order-api"].container_definitions)[0]), "user")
    error_message = "a service can opt out of the read-only root and of the user"
  }

  assert {
    condition     = aws_ecs_task_definition.service["service1"].execution_role_arn == "arn:aws:iam::111111111111:role/appcluster-test-task-execution"
    error_message = "task definitions use the cluster's own execution role"
  }

  assert {
    condition     = output.images["service1"] == jsondecode(aws_ecs_task_definition.service["service1"].container_definitions)[0].image
    error_message = "the images output names what the task definition runs"
  }
}

run "execution_role_reads_exactly_the_named_secrets" {
  command = apply

  assert {
    condition     = length(aws_iam_role.task_execution) == 1 && aws_iam_role_policy.secrets[0].role == aws_iam_role.task_execution[0].name
    error_message = "the secrets policy goes on the cluster's own execution role"
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.secrets.statement[0].resources) == toset(["arn:aws:ssm:ap-southeast-2:111111111111:parameter/appcluster-test/service1/database-password"]) && toset(data.aws_iam_policy_document.secrets.statement[0].actions) == toset(["ssm:GetParameters"])
    error_message = "SSM parameters are readable one by one, nothing else"
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.secrets.statement[1].resources) == toset(["arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:service1/api-AbCdEf"]) && toset(data.aws_iam_policy_document.secrets.statement[1].actions) == toset(["secretsmanager:GetSecretValue"])
    error_message = "a Secrets Manager valueFrom with a JSON key is granted on the secret itself"
  }
}

run "a_given_execution_role_gets_the_policy" {
  command = apply

  variables {
    task_execution_role_arn = "arn:aws:iam::111111111111:role/ops/shared-task-execution"
  }

  assert {
    condition     = length(aws_iam_role.task_execution) == 0 && aws_iam_role_policy.secrets[0].role == "shared-task-execution"
    error_message = "no role is created and the policy is attached to the given role by name"
  }
}

run "no_secrets_no_policy" {
  command = plan

  variables {
    services = {
      web = { image_repository = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/web", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1 }
    }
    service_builds = { web = "3" }
    service_images = {}
  }

  assert {
    condition     = length(aws_iam_role_policy.secrets) == 0
    error_message = "a cluster without secrets grants no secret access"
  }
}

run "hardening_defaults" {
  command = apply

  variables {
    deletion_protection = true
  }

  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    error_message = "instances boot the ECS-optimised Amazon Linux 2023 AMI"
  }

  assert {
    condition     = aws_launch_template.instance.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.instance.block_device_mappings[0].device_name == "/dev/xvda"
    error_message = "root volumes are encrypted"
  }

  assert {
    condition     = aws_lb.this.enable_deletion_protection && aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == aws_s3_bucket.alb_logs[0].id
    error_message = "the load balancer is protected and logs to its own bucket"
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.alb_logs[0].block_public_policy && one(aws_s3_bucket_server_side_encryption_configuration.alb_logs[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "the log bucket is private and encrypted (SSE-S3, the only kind ALB can write)"
  }

  assert {
    condition     = keys(aws_security_group_rule.instances_egress) == ["https"] && aws_security_group_rule.instances_egress["https"].protocol == "tcp" && aws_security_group_rule.instances_egress["https"].from_port == 443
    error_message = "instances may only leave over HTTPS by default"
  }
}

run "access_logs_to_a_given_bucket" {
  command = plan

  variables {
    alb_access_logs = { bucket = "central-alb-logs" }
  }

  assert {
    condition     = length(aws_s3_bucket.alb_logs) == 0 && aws_lb.this.access_logs[0].bucket == "central-alb-logs" && aws_lb.this.access_logs[0].prefix == "alb"
    error_message = "a given bucket is used and none is created"
  }
}

run "live_keeps_deletion_protection" {
  command = plan

  variables {
    environment_name    = "live"
    deletion_protection = false
  }

  expect_failures = [aws_lb.this]
}

run "empty_environment_value_is_refused" {
  command = plan

  variables {
    services = {
      web = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1, environment = { EMPTY = "" } }
    }
  }

  expect_failures = [var.services]
}

run "secret_must_be_an_ssm_or_secrets_manager_arn" {
  command = plan

  variables {
    services = {
      web = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1, secrets = { TOKEN = "/plain/parameter/name" } }
    }
  }

  expect_failures = [var.services]
}

run "a_name_is_environment_or_secret_not_both" {
  command = plan

  variables {
    services = {
      web = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1, environment = { TOKEN = "x" }, secrets = { TOKEN = "arn:aws:ssm:ap-southeast-2:111111111111:parameter/x" } }
    }
  }

  expect_failures = [var.services]
}

run "counts_must_be_ordered" {
  command = plan

  variables {
    services = {
      web = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1, min_count = 3, desired_count = 2 }
    }
  }

  expect_failures = [var.services]
}

run "priorities_must_be_unique" {
  command = plan

  variables {
    services = {
      web = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 5 }
      api = { image_repository = "r", cpu = 128, memory = 256, container_port = 81, path_pattern = "/api*", priority = 5 }
    }
  }

  expect_failures = [var.services]
}

run "service_names_are_checked" {
  command = plan

  variables {
    services = {
      "Web/../x" = { image_repository = "r", cpu = 128, memory = 256, container_port = 80, path_pattern = "/*", priority = 1 }
    }
  }

  expect_failures = [var.services]
}

run "cluster_name_is_checked" {
  command = plan

  variables {
    cluster_name = "Appcluster_test"
  }

  expect_failures = [var.cluster_name]
}

run "all_traffic_egress_is_refused" {
  command = plan

  variables {
    instance_egress = { any = { protocol = "-1", from_port = 0, to_port = 0, cidr_blocks = ["0.0.0.0/0"] } }
  }

  expect_failures = [var.instance_egress]
}
