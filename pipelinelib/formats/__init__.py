"""Codecs between pipelinelib's models and the files Jenkins, Terraform and shells read."""
