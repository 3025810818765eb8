# Where manifest-service's state lives: S3, locked with DynamoDB (see terraform/README.md);
# orchestrate copies this file beside the stack's code.
terraform {
  backend "s3" {
    bucket         = "pipelinelib-terraform-state-111111111111"
    key            = "ap-southeast-2/manifest-service/terraform.tfstate"
    region         = "ap-southeast-2"
    dynamodb_table = "pipelinelib-terraform-locks"
    encrypt        = true
  }
}
