locals {
  missing_builds = sort([
    for name in keys(var.services) : name
    if !contains(keys(var.service_builds), name) && var.default_build == null
  ])

  # Terraform 1.0 has no preconditions: converting the message to bool fails the plan with it.
  builds_complete = length(local.missing_builds) == 0 ? true : tobool(
    "no build for service(s) ${join(", ", local.missing_builds)}: pass --import-dir or set default_build"
  )

  image_tags = {
    for name in keys(var.services) :
    name => lookup(var.service_builds, name, var.default_build)
    if local.builds_complete
  }

  container_definitions = {
    for name, service in var.services :
    name => chomp(templatefile("${path.module}/container-definitions.json.tftpl", {
      name           = name
      image          = "${service.image_repository}:${local.image_tags[name]}"
      cpu            = service.cpu
      memory         = service.memory
      container_port = service.container_port
      environment    = merge(var.common_environment, service.environment)
      log_group      = "${var.log_group_prefix}/${name}"
      region         = var.region
    }))
    if local.builds_complete
  }
}
