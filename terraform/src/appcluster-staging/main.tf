# One environment's ECS cluster. Every environment's stack is the same code: what differs lives in
# config/<region>/<stack>/variables.tfvars, and the backend in config/<region>/<stack>/tf-config.tf.

terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      managed_by  = "pipelinelib-orchestrate"
      environment = var.environment_name
    }
  }
}

module "container_definitions" {
  source = "../modules/container-definitions"

  services         = var.services
  service_builds   = var.service_builds
  default_build    = var.default_build
  log_group_prefix = "/ecs/${var.cluster_name}"
  region           = var.region
  common_environment = {
    ENVIRONMENT   = var.environment_name
    DATABASE_HOST = var.database_endpoint
    PUBLIC_URL    = "https://${var.dns_name}"
  }
}

module "app_cluster" {
  source = "../modules/app-cluster"

  cluster_name             = var.cluster_name
  environment_name         = var.environment_name
  vpc_id                   = var.vpc_id
  alb_subnet_ids           = var.alb_subnet_ids
  instance_subnet_ids      = var.instance_subnet_ids
  certificate_arn          = var.certificate_arn
  hosted_zone_id           = var.hosted_zone_id
  dns_name                 = var.dns_name
  instance_type            = var.instance_type
  cluster_min_size         = var.cluster_min_size
  cluster_max_size         = var.cluster_max_size
  cluster_desired_capacity = var.cluster_desired_capacity
  task_execution_role_arn  = var.task_execution_role_arn
  task_role_arn            = var.task_role_arn
  log_retention_days       = var.log_retention_days
  services                 = var.services
  container_definitions    = module.container_definitions.container_definitions
}
