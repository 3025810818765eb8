# Settings a team coming from the seed's cluster keeps (see docs/migration.md), passed to
# app-cluster as they are; their defaults and checks live there.

variable "hosted_zone_name" {
  description = "Route 53 public zone to create dns_name in, found by name (instead of hosted_zone_id)."
  type        = string
  default     = null
}

variable "memory_target_percent" {
  description = "Service autoscaling also tracks average memory at this percentage; null for CPU only."
  type        = number
  default     = 80
}

variable "default_action" {
  description = "Requests no service's path matches: { service = NAME } forwards to it, else a fixed response ({ status_code, content_type, message_body })."
  type = object({
    service      = optional(string)
    status_code  = optional(string, "404")
    content_type = optional(string, "text/plain")
    message_body = optional(string, "not found")
  })
  default = {}
}

# Before the one-root layout the container-definitions module was called from each stack's root;
# it computes values only (no resources), so this move keeps plans quiet for old state.
moved {
  from = module.container_definitions
  to   = module.app_cluster.module.container_definitions
}
