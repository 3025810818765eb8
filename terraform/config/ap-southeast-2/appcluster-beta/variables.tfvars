environment_name         = "beta"
cluster_name             = "appcluster-beta"
dns_name                 = "beta.apps.example.com"
hosted_zone_id           = "Z0123456789ABCDEFGHIJ"
database_endpoint        = "beta-db.cluster-c0ffee.ap-southeast-2.rds.amazonaws.com"
vpc_id                   = "vpc-0a1b2c3d4e5f60002"
alb_subnet_ids           = ["subnet-02a0000000000001", "subnet-02a0000000000002"]
instance_subnet_ids      = ["subnet-02b0000000000001", "subnet-02b0000000000002"]
certificate_arn          = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000002"
instance_type            = "t3.large"
cluster_min_size         = 1
cluster_max_size         = 3
cluster_desired_capacity = 1
task_role_arn            = "arn:aws:iam::111111111111:role/appcluster-beta-task"
log_retention_days       = 14

# Non-production: the load balancer may be deleted (live and staging keep protection on).
deletion_protection = false

# Instances reach AWS over HTTPS and the database on its port; nothing else.
instance_egress = {
  https    = { from_port = 443, to_port = 443, cidr_blocks = ["0.0.0.0/0"] }
  database = { from_port = 5432, to_port = 5432, cidr_blocks = ["10.2.0.0/16"] }
}

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
    secrets = {
      DATABASE_PASSWORD = "arn:aws:ssm:ap-southeast-2:111111111111:parameter/appcluster-beta/service1/database-password"
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
