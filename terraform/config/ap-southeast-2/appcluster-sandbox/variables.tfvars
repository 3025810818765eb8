environment_name         = "sandbox"
cluster_name             = "appcluster-sandbox"
dns_name                 = "sandbox.apps.example.com"
hosted_zone_id           = "Z0123456789ABCDEFGHIJ"
database_endpoint        = "sandbox-db.cluster-c0ffee.ap-southeast-2.rds.amazonaws.com"
vpc_id                   = "vpc-0a1b2c3d4e5f60003"
alb_subnet_ids           = ["subnet-03a0000000000001", "subnet-03a0000000000002"]
instance_subnet_ids      = ["subnet-03b0000000000001", "subnet-03b0000000000002"]
certificate_arn          = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000003"
instance_type            = "t3.medium"
cluster_min_size         = 1
cluster_max_size         = 2
cluster_desired_capacity = 1
task_execution_role_arn  = "arn:aws:iam::111111111111:role/ecs-task-execution"
task_role_arn            = "arn:aws:iam::111111111111:role/appcluster-sandbox-task"
log_retention_days       = 7

# Adding a service is a change here (and in the other environments' files), never new HCL.
services = {
  service1 = {
    image_repository  = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1"
    cpu               = 256
    memory            = 512
    container_port    = 8080
    desired_count     = 1
    min_count         = 1
    max_count         = 3
    health_check_path = "/healthz"
    path_pattern      = "/*"
    priority          = 100
    environment = {
      LOG_LEVEL = "info"
    }
  }
  service2 = {
    image_repository  = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service2"
    cpu               = 256
    memory            = 512
    container_port    = 8081
    desired_count     = 1
    min_count         = 1
    max_count         = 3
    health_check_path = "/healthz"
    path_pattern      = "/orders*"
    priority          = 10
    environment       = {}
  }
}
