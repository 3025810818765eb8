environment_name         = "live"
cluster_name             = "appcluster-live"
dns_name                 = "apps.example.com"
hosted_zone_id           = "Z0123456789ABCDEFGHIJ"
database_endpoint        = "live-db.cluster-c0ffee.ap-southeast-2.rds.amazonaws.com"
vpc_id                   = "vpc-0a1b2c3d4e5f60009"
alb_subnet_ids           = ["subnet-09a0000000000001", "subnet-09a0000000000002"]
instance_subnet_ids      = ["subnet-09b0000000000001", "subnet-09b0000000000002"]
certificate_arn          = "arn:aws:acm:ap-southeast-2:999999999999:certificate/00000000-0000-0000-0000-000000000009"
instance_type            = "m5.large"
cluster_min_size         = 3
cluster_max_size         = 8
cluster_desired_capacity = 3
task_role_arn            = "arn:aws:iam::999999999999:role/appcluster-live-task"
log_retention_days       = 90

# Instances reach AWS over HTTPS and the database on its port; nothing else.
instance_egress = {
  https    = { from_port = 443, to_port = 443, cidr_blocks = ["0.0.0.0/0"] }
  database = { from_port = 5432, to_port = 5432, cidr_blocks = ["10.9.0.0/16"] }
}

# Adding a service is a change here (and in the other environments' files), never new HCL.
services = {
  service1 = {
    image_repository  = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service1"
    cpu               = 256
    memory            = 512
    container_port    = 8080
    desired_count     = 3
    min_count         = 3
    max_count         = 9
    health_check_path = "/healthz"
    path_pattern      = "/*"
    priority          = 100
    environment = {
      LOG_LEVEL = "info"
    }
    secrets = {
      DATABASE_PASSWORD = "arn:aws:ssm:ap-southeast-2:999999999999:parameter/appcluster-live/service1/database-password"
    }
  }
  service2 = {
    image_repository  = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/service2"
    cpu               = 256
    memory            = 512
    container_port    = 8081
    desired_count     = 3
    min_count         = 3
    max_count         = 9
    health_check_path = "/healthz"
    path_pattern      = "/orders*"
    priority          = 10
    environment       = {}
  }
}
