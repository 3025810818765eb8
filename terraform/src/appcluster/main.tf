# Every environment's ECS cluster: ONE root for all of them. What differs lives in
# config/<region>/appcluster-<env>/variables.tfvars, the backend in .../tf-config.tf;
# orchestrate finds this folder for any stack named appcluster-<env> (see terraform/README.md).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
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

module "app_cluster" {
  source = "../modules/app-cluster"

  cluster_name             = var.cluster_name
  environment_name         = var.environment_name
  region                   = var.region
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
  service_builds           = var.service_builds
  service_images           = var.service_images
  default_build            = var.default_build
  ami_ssm_parameter        = var.ami_ssm_parameter
  root_volume              = var.root_volume
  alb_access_logs          = var.alb_access_logs
  deletion_protection      = var.deletion_protection
  instance_egress          = var.instance_egress
  common_environment = {
    ENVIRONMENT   = var.environment_name
    DATABASE_HOST = var.database_endpoint
    PUBLIC_URL    = "https://${var.dns_name}"
  }
}
