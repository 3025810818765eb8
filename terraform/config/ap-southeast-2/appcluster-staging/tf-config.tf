# Where appcluster-staging's state lives: S3, locked with DynamoDB. Create the bucket and table once
# per account (see terraform/README.md); orchestrate copies this file beside the stack's code.
terraform {
  backend "s3" {
    bucket         = "pipelinelib-terraform-state-999999999999"
    key            = "ap-southeast-2/appcluster-staging/terraform.tfstate"
    region         = "ap-southeast-2"
    dynamodb_table = "pipelinelib-terraform-locks"
    encrypt        = true
  }
}
