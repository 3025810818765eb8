image_repository    = "999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/pipelinelib-service"
vpc_id              = "vpc-0a1b2c3d4e5f60009"
private_subnet_ids  = ["subnet-09a0000000000001", "subnet-09a0000000000002"]
allowed_cidr_blocks = ["10.20.0.0/16"]
certificate_arn     = "arn:aws:acm:ap-southeast-2:111111111111:certificate/00000000-0000-0000-0000-000000000009"
desired_count       = 2
