variable "region" {
  description = "Set by orchestrate from its REGION argument."
  type        = string
}

variable "service_builds" {
  description = "Service name => build number; orchestrate --import-dir writes it."
  type        = map(string)
  default     = {}
}

variable "default_build" {
  description = "Tag for services without an imported build (e.g. for destroy); null = error."
  type        = string
  default     = null
}

variable "environment_name" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "dns_name" {
  type = string
}

variable "hosted_zone_id" {
  type = string
}

variable "database_endpoint" {
  description = "Host name of the database the services use."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "alb_subnet_ids" {
  type = list(string)
}

variable "instance_subnet_ids" {
  type = list(string)
}

variable "certificate_arn" {
  type = string
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
  type = string
}

variable "task_role_arn" {
  type = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "services" {
  description = "Services keyed by name; see terraform/README.md for the fields."
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
