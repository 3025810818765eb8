output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  value = aws_ecs_cluster.this.arn
}

output "alb_dns_name" {
  value = aws_lb.this.dns_name
}

output "url" {
  value = "https://${aws_route53_record.cluster.fqdn}"
}

output "service_names" {
  description = "Service name => ECS service name (what wait-rollout follows)."
  value       = { for name, service in aws_ecs_service.service : name => service.name }
}

output "task_definition_arns" {
  value = { for name, task in aws_ecs_task_definition.service : name => task.arn }
}

output "images" {
  description = "Service name => the image its task definition runs (repository@sha256:... when deployed by digest)."
  value       = module.container_definitions.images
}

output "image_tags" {
  description = "Service name => the build deployed (its image tag)."
  value       = module.container_definitions.image_tags
}

output "task_execution_role_arn" {
  value = local.task_execution_role_arn
}

output "alb_access_logs_bucket" {
  description = "Where the load balancer writes its access logs; null when they are off."
  value       = local.alb_logs_bucket
}
