output "container_definitions" {
  description = "Service name => container definitions JSON (RegisterTaskDefinition's list)."
  value       = local.container_definitions

  precondition {
    condition     = length(local.missing_builds) == 0
    error_message = "no build for service(s) ${join(", ", local.missing_builds)}: pass --import-dir or set default_build"
  }

  precondition {
    condition     = length(local.foreign_images) == 0
    error_message = "imported image of service(s) ${join(", ", local.foreign_images)} is not from the service's image_repository"
  }
}

output "image_tags" {
  description = "Service name => the build deployed (its image tag); null when neither imported nor defaulted."
  value       = local.image_tags
}

output "images" {
  description = "Service name => the exact image reference each task definition runs (repository@sha256:... when deployed by digest)."
  value       = local.images
}
