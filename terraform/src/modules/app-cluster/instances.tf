data "aws_ssm_parameter" "ecs_ami" {
  name = var.ami_ssm_parameter
}

data "aws_iam_policy_document" "instance_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  name               = "${var.cluster_name}-instance"
  assume_role_policy = data.aws_iam_policy_document.instance_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "instance_ecs" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_role_policy_attachment" "instance_ssm" {
  role       = aws_iam_role.instance.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.cluster_name}-instance"
  role = aws_iam_role.instance.name
}

resource "aws_launch_template" "instance" {
  name_prefix            = "${var.cluster_name}-"
  image_id               = data.aws_ssm_parameter.ecs_ami.value
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.instances.id]
  user_data              = base64encode(templatefile("${path.module}/user-data.sh.tftpl", { cluster_name = aws_ecs_cluster.this.name }))

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  # The ECS-optimised AMIs boot from /dev/xvda; encrypted whatever the account's default is.
  block_device_mappings {
    device_name = "/dev/xvda"

    ebs {
      volume_size           = var.root_volume.size_gb
      volume_type           = var.root_volume.type
      encrypted             = true
      kms_key_id            = var.root_volume.kms_key_id
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.cluster_name}-instance" })
  }

  tags = local.tags
}

resource "aws_autoscaling_group" "instances" {
  name_prefix           = "${var.cluster_name}-"
  min_size              = var.cluster_min_size
  max_size              = var.cluster_max_size
  desired_capacity      = var.cluster_desired_capacity
  vpc_zone_identifier   = var.instance_subnet_ids
  health_check_type     = "EC2"
  protect_from_scale_in = true

  launch_template {
    id      = aws_launch_template.instance.id
    version = aws_launch_template.instance.latest_version
  }

  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 50
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  dynamic "tag" {
    for_each = local.tags

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "instances" {
  name = "${var.cluster_name}-instances"

  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.instances.arn
    managed_termination_protection = "ENABLED"

    managed_scaling {
      status          = "ENABLED"
      target_capacity = 100
    }
  }

  tags = local.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = [aws_ecs_capacity_provider.instances.name]

  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.instances.name
    weight            = 1
  }
}
