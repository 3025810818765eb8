variable "services" {
  description = "Services of the cluster, keyed by service name (the same map app-cluster takes)."
  type = map(object({
    image_repository         = string
    cpu                      = number
    memory                   = number
    container_port           = number
    desired_count            = optional(number, 1)
    min_count                = optional(number, 1)
    max_count                = optional(number, 2)
    health_check_path        = optional(string, "/healthz")
    path_pattern             = string
    priority                 = number
    environment              = optional(map(string), {})
    secrets                  = optional(map(string), {})
    readonly_root_filesystem = optional(bool, true)
    user                     = optional(string, "1000:1000")
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

variable "service_images" {
  description = "Image reference of each service from the imported manifest: repository@sha256:<digest> when the manifest has a digest, else repository:tag. Wins over service_builds."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for ref in values(var.service_images) :
      can(regex("^[a-z0-9][a-z0-9._/:-]*[a-z0-9](@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", ref))
    ])
    error_message = "Every image must be repository@sha256:<64 hex digits> or repository:tag."
  }
}

variable "default_build" {
  description = "Tag for services in neither service_images nor service_builds; null makes that an error."
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
