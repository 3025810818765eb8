variable "cluster_name" {
  description = "Name of the ECS cluster; prefixes every resource of this module."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,27}$", var.cluster_name))
    error_message = "cluster_name uses 1-28 characters a-z, 0-9 and '-' (it prefixes load balancer and target group names)."
  }
}

variable "environment_name" {
  description = "test, beta, staging, live or sandbox: tagged on every resource."
  type        = string
}

variable "region" {
  description = "AWS region of the cluster (its log groups)."
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
  description = "Role ECS uses to pull images, write logs and read the services' secrets; null (the default) creates one for this cluster, scoped to its own secrets."
  type        = string
  default     = null
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

  validation {
    condition     = alltrue(flatten([for service in values(var.services) : [for value in values(service.environment) : value != ""]]))
    error_message = "Empty environment values are refused: ECS drops them and every plan shows a diff (terraform-provider-aws#39533). Remove the variable or give it a value."
  }

  validation {
    condition = alltrue(flatten([
      for service in values(var.services) : [
        for arn in values(service.secrets) :
        can(regex("^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+|secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+)$", arn))
      ]
    ]))
    error_message = "Each secret is the ARN of an SSM parameter (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)."
  }

  validation {
    condition     = alltrue([for service in values(var.services) : length(setintersection(keys(service.environment), keys(service.secrets))) == 0])
    error_message = "A name is either in environment or in secrets of a service, not both."
  }

  validation {
    condition     = alltrue([for service in values(var.services) : service.min_count <= service.desired_count && service.desired_count <= service.max_count])
    error_message = "Each service needs min_count <= desired_count <= max_count."
  }

  validation {
    condition     = length(distinct([for service in values(var.services) : service.priority])) == length(var.services)
    error_message = "Listener rule priorities must be unique within an environment."
  }
}

variable "service_builds" {
  description = "Service name => build number (image tag), written by orchestrate --import-dir."
  type        = map(string)
  default     = {}
}

variable "service_images" {
  description = "Service name => image reference (repository@sha256:... when the manifest has a digest), written by orchestrate --import-dir; wins over service_builds."
  type        = map(string)
  default     = {}
}

variable "default_build" {
  description = "Tag for services without an imported image or build (e.g. for destroy); null = error."
  type        = string
  default     = null
}

variable "common_environment" {
  description = "Environment variables every container gets (a service's own value wins)."
  type        = map(string)
  default     = {}
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

# --- hardening: every switch has a safe default; an environment opts out in its tfvars ---------

variable "ami_ssm_parameter" {
  description = "SSM parameter holding the container instances' AMI: the ECS-optimised Amazon Linux 2023 image (Amazon Linux 2 reaches end of support on 2026-06-30)."
  nullable    = false
  type        = string
  default     = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

variable "root_volume" {
  description = "Root EBS volume of the container instances: always encrypted (with kms_key_id, else the AWS-managed EBS key)."
  nullable    = false
  type = object({
    size_gb    = optional(number, 30)
    type       = optional(string, "gp3")
    kms_key_id = optional(string)
  })
  default = {}
}

variable "alb_access_logs" {
  description = "Load balancer access logs to S3; without bucket, the module creates an encrypted, private bucket for them."
  nullable    = false
  type = object({
    enabled        = optional(bool, true)
    bucket         = optional(string)
    prefix         = optional(string, "alb")
    retention_days = optional(number, 90)
  })
  default = {}
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (on by default; test, beta and sandbox turn it off)."
  nullable    = false
  type        = bool
  default     = true
}

variable "instance_egress" {
  description = "Where container instances may connect, keyed by purpose. The default allows HTTPS only (ECR, ECS, SSM, CloudWatch Logs, Secrets Manager); add the database port per environment."
  nullable    = false
  type = map(object({
    protocol    = optional(string, "tcp")
    from_port   = number
    to_port     = number
    cidr_blocks = list(string)
  }))
  default = {
    https = { from_port = 443, to_port = 443, cidr_blocks = ["0.0.0.0/0"] }
  }

  validation {
    condition     = alltrue([for rule in values(var.instance_egress) : rule.protocol != "-1"])
    error_message = "instance_egress names a protocol and ports; all-traffic rules (-1) are refused."
  }
}
