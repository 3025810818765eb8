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
  value = module.app_cluster.image_tags
}

output "images" {
  description = "Service name => the exact image each task definition runs (what verify-images checked)."
  value       = module.app_cluster.images
}
