# Where appcluster-beta's state lives: S3, locked with DynamoDB. Create the bucket and table once
# per account (see terraform/README.md); orchestrate copies this file beside the stack's code.
terraform {
  backend "s3" {
    bucket         = "pipelinelib-terraform-state-111111111111"
    key            = "ap-southeast-2/appcluster-beta/terraform.tfstate"
    region         = "ap-southeast-2"
    dynamodb_table = "pipelinelib-terraform-locks"
    encrypt        = true
  }
}
