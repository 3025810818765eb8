locals {
  # What each task definition runs: the manifest's image (by digest when it has one), else the
  # configured repository at the imported build, else at default_build; null when none is known.
  images = {
    for name, service in var.services :
    name => (
      contains(keys(var.service_images), name) ? var.service_images[name] :
      contains(keys(var.service_builds), name) ? "${service.image_repository}:${var.service_builds[name]}" :
      var.default_build != null ? "${service.image_repository}:${var.default_build}" : null
    )
  }

  missing_builds = sort([for name, image in local.images : name if image == null])

  # An imported image must come from the repository the environment configures for the service.
  foreign_images = sort([
    for name, ref in var.service_images : name
    if contains(keys(var.services), name) && !startswith(ref, "${try(var.services[name].image_repository, "")}@") && !startswith(ref, "${try(var.services[name].image_repository, "")}:")
  ])

  image_tags = {
    for name in keys(var.services) : name => lookup(var.service_builds, name, var.default_build)
  }

  container_definitions = {
    for name, service in var.services :
    name => chomp(templatefile("${path.module}/container-definitions.json.tftpl", {
      name           = name
      image          = local.images[name]
      cpu            = service.cpu
      memory         = service.memory
      container_port = service.container_port
      environment    = merge(var.common_environment, service.environment)
      secrets        = service.secrets
      read_only      = service.readonly_root_filesystem
      user           = service.user
      log_group      = "${var.log_group_prefix}/${name}"
      region         = var.region
    }))
    if local.images[name] != null
  }
}
