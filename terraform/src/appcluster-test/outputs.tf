output "cluster_name" {
  value = module.app_cluster.cluster_name
}

output "url" {
  value = module.app_cluster.url
}

output "service_names" {
  value = module.app_cluster.service_names
}

output "image_tags" {
  value = module.container_definitions.image_tags
}
