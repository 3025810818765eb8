output "container_definitions" {
  description = "Service name => container definitions JSON (RegisterTaskDefinition's list)."
  value       = local.container_definitions
}

output "image_tags" {
  description = "Service name => the image tag its task definition uses."
  value       = local.image_tags
}

output "images" {
  description = "Service name => the full image reference."
  value       = { for name, tag in local.image_tags : name => "${var.services[name].image_repository}:${tag}" }
}
