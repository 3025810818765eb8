output "url" {
  description = "Base URL of the service for PIPELINELIB_SERVER (resolve the ALB name in your internal DNS)."
  value       = "https://${aws_lb.this.dns_name}"
}

output "image" {
  description = "The image the tasks run."
  value       = local.image
}

output "database_endpoint" {
  value = aws_db_instance.this.address
}

output "tokens_secret_arn" {
  description = "Put the tokens file's content here (aws secretsmanager put-secret-value)."
  value       = aws_secretsmanager_secret.tokens.arn
}

output "cluster_name" {
  description = "For pipelinelib wait-rollout --cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  value = aws_ecs_service.this.name
}
