# terraform test with the real hashicorp/aws schema and mocked answers: the additions a team
# coming from the seed's cluster relies on (memory autoscaling, the listener's default action, the
# zone by name). The mock provider and variables repeat app_cluster.tftest.hcl's (each test file
# stands alone); only aws_route53_zone is added.

mock_provider "aws" {
  mock_data "aws_route53_zone" {
    defaults = {
      zone_id = "Z0FROMTHENAMELOOKUP01"
    }
  }

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

run "memory_is_tracked_beside_cpu" {
  command = plan

  assert {
    condition     = length(aws_appautoscaling_policy.service_memory) == 2
    error_message = "every service gets a memory target tracking policy"
  }

  assert {
    condition     = aws_appautoscaling_policy.service_memory["service1"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageMemoryUtilization"
    error_message = "the policy tracks ECS service memory"
  }

  assert {
    condition     = aws_appautoscaling_policy.service_memory["order-api"].target_tracking_scaling_policy_configuration[0].target_value == 80
    error_message = "the default memory target is 80 percent"
  }

  assert {
    condition     = length(aws_appautoscaling_policy.service_cpu) == 2
    error_message = "CPU tracking stays"
  }
}

run "memory_tracking_can_be_turned_off" {
  command = plan

  variables {
    memory_target_percent = null
  }

  assert {
    condition     = length(aws_appautoscaling_policy.service_memory) == 0
    error_message = "null turns memory tracking off"
  }
}

run "memory_target_is_a_percentage" {
  command = plan

  variables {
    memory_target_percent = 150
  }

  expect_failures = [var.memory_target_percent]
}

run "default_action_answers_404_unless_configured" {
  command = plan

  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "fixed-response" && aws_lb_listener.https.default_action[0].fixed_response[0].status_code == "404"
    error_message = "without a default service the listener answers 404"
  }
}

run "default_action_forwards_to_one_service" {
  command = apply

  variables {
    default_action = { service = "service1" }
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "forward"
    error_message = "the listener forwards what no rule matches"
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].target_group_arn == aws_lb_target_group.service["service1"].arn
    error_message = "to the named service's target group"
  }

  assert {
    condition     = length(aws_lb_listener.https.default_action[0].fixed_response) == 0
    error_message = "and has no fixed response"
  }
}

run "default_action_fixed_response_is_configurable" {
  command = plan

  variables {
    default_action = { status_code = "503", message_body = "maintenance" }
  }

  assert {
    condition     = aws_lb_listener.https.default_action[0].fixed_response[0].status_code == "503" && aws_lb_listener.https.default_action[0].fixed_response[0].message_body == "maintenance"
    error_message = "the fixed response is the configured one"
  }
}

run "default_action_service_must_exist" {
  command = plan

  variables {
    default_action = { service = "billing" }
  }

  expect_failures = [aws_lb_listener.https]
}

run "hosted_zone_by_name" {
  command = apply

  variables {
    hosted_zone_id   = null
    hosted_zone_name = "apps.example.com"
  }

  assert {
    condition     = aws_route53_record.cluster.zone_id == "Z0FROMTHENAMELOOKUP01"
    error_message = "the record goes into the zone found by name"
  }

  assert {
    condition     = data.aws_route53_zone.by_name[0].name == "apps.example.com" && data.aws_route53_zone.by_name[0].private_zone == false
    error_message = "the lookup asks for the public zone of that name"
  }
}

run "hosted_zone_by_id_needs_no_lookup" {
  command = plan

  assert {
    condition     = length(data.aws_route53_zone.by_name) == 0 && aws_route53_record.cluster.zone_id == "Z0123456789ABCDEFGHIJ"
    error_message = "a zone id is used as given"
  }
}

run "hosted_zone_needs_exactly_one_of_id_and_name" {
  command = plan

  variables {
    hosted_zone_name = "apps.example.com"
  }

  expect_failures = [aws_route53_record.cluster]
}
