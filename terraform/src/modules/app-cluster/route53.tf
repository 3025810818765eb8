resource "aws_route53_record" "cluster" {
  zone_id = local.zone_id
  name    = var.dns_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }

  lifecycle {
    precondition {
      condition     = (var.hosted_zone_id == null) != (var.hosted_zone_name == null)
      error_message = "Give the Route 53 zone either by hosted_zone_id or by hosted_zone_name, not both or neither."
    }
  }
}
