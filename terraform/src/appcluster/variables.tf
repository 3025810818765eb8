variable "region" {
  description = "Set by orchestrate from its REGION argument."
  type        = string
}

variable "service_builds" {
  description = "Service name => build number; orchestrate --import-dir writes it."
  type        = map(string)
  default     = {}
}

variable "service_images" {
  description = "Service name => image reference (repository@sha256:... when the imported manifest has a digest); orchestrate --import-dir writes it."
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
  description = "null (the default) gives the cluster its own execution role, scoped to its services' secrets."
  type        = string
  default     = null
}

variable "task_role_arn" {
  type = string
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "services" {
  description = "Services keyed by name; see terraform/README.md for the fields (validated by the app-cluster module)."
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
}

# --- hardening (defaults in the app-cluster module; null keeps them) --------------------------

variable "ami_ssm_parameter" {
  description = "SSM parameter of the instances' AMI; null = the ECS-optimised Amazon Linux 2023 image."
  type        = string
  default     = null
}

variable "root_volume" {
  description = "Root volume of the instances ({size_gb, type, kms_key_id}); always encrypted."
  type = object({
    size_gb    = optional(number, 30)
    type       = optional(string, "gp3")
    kms_key_id = optional(string)
  })
  default = {}
}

variable "alb_access_logs" {
  description = "{enabled, bucket, prefix, retention_days}; on by default, into a bucket the module creates."
  type = object({
    enabled        = optional(bool, true)
    bucket         = optional(string)
    prefix         = optional(string, "alb")
    retention_days = optional(number, 90)
  })
  default = {}
}

variable "deletion_protection" {
  description = "Deletion protection of the load balancer; on unless the environment turns it off (never live or staging)."
  type        = bool
  default     = true
}

variable "instance_egress" {
  description = "Where the instances may connect, keyed by purpose; null = HTTPS only."
  type = map(object({
    protocol    = optional(string, "tcp")
    from_port   = number
    to_port     = number
    cidr_blocks = list(string)
  }))
  default = null
}
