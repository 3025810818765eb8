"""Amazon Web Services: :mod:`.session` (clients, one error translation), :mod:`.ecr` (images),
:mod:`.ecs` (rollouts). Importing this package imports no AWS library: boto3 is loaded by
:class:`pipelinelib.aws.session.Aws` when a client is first needed.
"""
