# The manifest service's own stack: `pipelinelib orchestrate apply manifest-service REGION
# --import-dir import` deploys the image build that import/ names (service "manifest-service").

variable "region" {
  description = "Set by orchestrate from its REGION argument."
  type        = string
}

variable "service_builds" {
  description = "Service name => build number; orchestrate --import-dir writes it. Key: manifest-service."
  type        = map(string)
  default     = {}
}

variable "image_digests" {
  description = "Service name => image digest (sha256:...). When given, the image is pinned by digest."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for d in values(var.image_digests) : can(regex("^sha256:[0-9a-f]{64}$", d))])
    error_message = "Each image digest must be sha256: followed by 64 lowercase hex digits."
  }
}

variable "name" {
  description = "Name of the service and prefix of its resources."
  type        = string
  default     = "manifest-service"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name: 3-31 characters, a-z, 0-9 and '-', starting with a letter."
  }
}

variable "image_repository" {
  description = "ECR repository of the service image (the repository's Dockerfile)."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  description = "Subnets of the internal ALB, the tasks and the database (at least two AZs)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Give at least two private subnets (two availability zones)."
  }
}

variable "allowed_cidr_blocks" {
  description = "Networks allowed to reach the service (Jenkins controllers and agents)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidr_blocks) > 0 && !contains(var.allowed_cidr_blocks, "0.0.0.0/0")
    error_message = "The service is internal: list the Jenkins networks, never 0.0.0.0/0."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the internal ALB's HTTPS listener."
  type        = string
}

variable "desired_count" {
  description = "Replicas (they share the PostgreSQL database)."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 10
    error_message = "desired_count must be between 1 and 10."
  }
}

variable "cpu" {
  type    = number
  default = 512
}

variable "memory" {
  type    = number
  default = 1024
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.small"
}

variable "db_allocated_storage" {
  description = "GiB; storage autoscaling may grow it up to 4x."
  type        = number
  default     = 20
}

variable "db_backup_retention_days" {
  type    = number
  default = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "Keep automated backups 7-35 days."
  }
}

variable "log_retention_days" {
  type    = number
  default = 365
}

variable "kms_key_arn" {
  description = "KMS key for the database, its secret, the tokens secret and the logs (null = AWS managed keys)."
  type        = string
  default     = null
}
