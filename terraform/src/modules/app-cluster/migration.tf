# What a team coming from the seed's cluster keeps: service autoscaling on memory as well as CPU,
# a listener whose default action forwards to one service (or answers a fixed response), and a
# Route 53 zone found by name. docs/migration.md maps the seed's resource addresses to these.

variable "memory_target_percent" {
  description = "Service autoscaling also keeps average memory near this value (percent); null tracks CPU only."
  type        = number
  default     = 80

  validation {
    condition     = var.memory_target_percent == null || try(var.memory_target_percent > 0 && var.memory_target_percent <= 100, false)
    error_message = "memory_target_percent is a percentage between 1 and 100, or null to track CPU only."
  }
}

variable "default_action" {
  description = "What the HTTPS listener does with a request no service's path_pattern matches: forward to default_action.service, else answer status_code with message_body."
  type = object({
    service      = optional(string)
    status_code  = optional(string, "404")
    content_type = optional(string, "text/plain")
    message_body = optional(string, "not found")
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[2-5][0-9][0-9]$", var.default_action.status_code))
    error_message = "default_action.status_code is an HTTP status code such as 404 or 503."
  }

  validation {
    condition     = contains(["text/plain", "text/css", "text/html", "application/javascript", "application/json"], var.default_action.content_type)
    error_message = "default_action.content_type is one the load balancer accepts: text/plain, text/css, text/html, application/javascript or application/json."
  }
}

variable "hosted_zone_name" {
  description = "Route 53 public zone (e.g. apps.example.com) to create dns_name in, looked up by name; give this or hosted_zone_id."
  type        = string
  default     = null
}

data "aws_route53_zone" "by_name" {
  count = var.hosted_zone_name != null ? 1 : 0

  name         = var.hosted_zone_name
  private_zone = false
}

locals {
  zone_id = var.hosted_zone_id != null ? var.hosted_zone_id : one(data.aws_route53_zone.by_name[*].zone_id)
}

resource "aws_appautoscaling_policy" "service_memory" {
  for_each = var.memory_target_percent == null ? {} : var.services

  name               = "${var.cluster_name}-${each.key}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.memory_target_percent
    scale_in_cooldown  = 120
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}
