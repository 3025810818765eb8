resource "aws_security_group" "alb" {
  name_prefix = "${var.cluster_name}-alb-"
  description = "Load balancer of ${var.cluster_name}: HTTP and HTTPS from anywhere"
  vpc_id      = var.vpc_id
  tags        = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "alb_ingress" {
  for_each = toset(["80", "443"])

  security_group_id = aws_security_group.alb.id
  type              = "ingress"
  description       = "HTTP${each.value == "443" ? "S" : " (redirects to HTTPS)"} from anywhere"
  protocol          = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_blocks       = ["0.0.0.0/0"]
  ipv6_cidr_blocks  = ["::/0"]
}

resource "aws_security_group_rule" "alb_to_instances" {
  security_group_id        = aws_security_group.alb.id
  type                     = "egress"
  description              = "to the dynamic host ports of the containers"
  protocol                 = "tcp"
  from_port                = 32768
  to_port                  = 65535
  source_security_group_id = aws_security_group.instances.id
}

resource "aws_security_group" "instances" {
  name_prefix = "${var.cluster_name}-instances-"
  description = "Container instances of ${var.cluster_name}: dynamic ports from the load balancer"
  vpc_id      = var.vpc_id
  tags        = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "instances_from_alb" {
  security_group_id        = aws_security_group.instances.id
  type                     = "ingress"
  description              = "dynamic host ports from the load balancer"
  protocol                 = "tcp"
  from_port                = 32768
  to_port                  = 65535
  source_security_group_id = aws_security_group.alb.id
}

# Narrowed to what the instances need (var.instance_egress); no all-traffic rule.
resource "aws_security_group_rule" "instances_egress" {
  for_each = var.instance_egress

  security_group_id = aws_security_group.instances.id
  type              = "egress"
  description       = "${each.key} from the container instances"
  protocol          = each.value.protocol
  from_port         = each.value.from_port
  to_port           = each.value.to_port
  cidr_blocks       = each.value.cidr_blocks
}

moved {
  from = aws_security_group_rule.instances_egress
  to   = aws_security_group_rule.instances_egress["https"]
}
