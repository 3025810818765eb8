# Provider-less on purpose: this module only computes values, so real Terraform can plan and
# apply it anywhere (tests do, with a local backend) and no plugin is ever downloaded for it.
terraform {
  required_version = ">= 1.5"
}
