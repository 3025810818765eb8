locals {
  tags = merge(var.tags, {
    cluster     = var.cluster_name
    environment = var.environment_name
  })
}

resource "aws_ecs_cluster" "this" {
  name = var.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "service" {
  for_each = var.services

  name              = "/ecs/${var.cluster_name}/${each.key}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# The containers of each service, image by digest when the imported manifest has one.
module "container_definitions" {
  source = "../container-definitions"

  services           = var.services
  service_builds     = var.service_builds
  service_images     = var.service_images
  default_build      = var.default_build
  common_environment = var.common_environment
  log_group_prefix   = "/ecs/${var.cluster_name}"
  region             = var.region
}
