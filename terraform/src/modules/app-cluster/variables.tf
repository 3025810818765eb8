variable "cluster_name" {
  description = "Name of the ECS cluster; prefixes every resource of this module."
  type        = string
}

variable "environment_name" {
  description = "test, beta, staging, live or sandbox: tagged on every resource."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "alb_subnet_ids" {
  description = "Public subnets of the load balancer."
  type        = list(string)
}

variable "instance_subnet_ids" {
  description = "Private subnets of the container instances."
  type        = list(string)
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string
}

variable "ssl_policy" {
  type    = string
  default = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "hosted_zone_id" {
  description = "Route 53 zone the cluster's DNS name is created in."
  type        = string
}

variable "dns_name" {
  description = "Fully qualified name pointing at the load balancer."
  type        = string
}

variable "instance_type" {
  type = string
}

variable "cluster_min_size" {
  type = number
}

variable "cluster_max_size" {
  type = number
}

variable "cluster_desired_capacity" {
  type = number
}

variable "task_execution_role_arn" {
  description = "Role ECS uses to pull images and write logs."
  type        = string
}

variable "task_role_arn" {
  description = "Role the containers run as."
  type        = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "services" {
  description = "Services keyed by name: adding one is a tfvars change (see terraform/README.md)."
  type = map(object({
    image_repository  = string
    cpu               = number
    memory            = number
    container_port    = number
    desired_count     = number
    min_count         = number
    max_count         = number
    health_check_path = string
    path_pattern      = string
    priority          = number
    environment       = map(string)
  }))
}

variable "container_definitions" {
  description = "Service name => container definitions JSON, from the container-definitions module."
  type        = map(string)
}

variable "cpu_target_percent" {
  description = "Service autoscaling keeps average CPU near this value."
  type        = number
  default     = 60
}

variable "tags" {
  type    = map(string)
  default = {}
}
