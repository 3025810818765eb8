variable "services" {
  description = "Services of the cluster, keyed by service name (the same map app-cluster takes)."
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

  validation {
    condition     = alltrue([for name in keys(var.services) : can(regex("^[a-z0-9][a-z0-9_-]{0,62}$", name))])
    error_message = "Service names use 1-63 characters a-z, 0-9, '-' and '_', starting with a letter or digit."
  }
}

variable "service_builds" {
  description = "Build number (image tag) of each service, from the imported artifacts."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for tag in values(var.service_builds) : can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", tag))])
    error_message = "Every build must be a valid image tag (letters, digits, '_', '.', '-'; at most 128)."
  }
}

variable "default_build" {
  description = "Tag for services missing from service_builds; null makes a missing build an error."
  type        = string
  default     = null
}

variable "common_environment" {
  description = "Environment variables every container gets (a service's own value wins)."
  type        = map(string)
  default     = {}
}

variable "log_group_prefix" {
  description = "CloudWatch log group prefix; each service logs to <prefix>/<service>."
  type        = string
}

variable "region" {
  description = "AWS region of the log groups."
  type        = string
}
