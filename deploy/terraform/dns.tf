# DNS and TLS: this environment's zone, a certificate validated through DNS, and the shop's
# record. The apex zone is the global stack's; prod uses it, staging gets its own
# subdomain zone delegated from it, so ACM validation, cert-manager's DNS01 and external-dns
# each write only to their environment's zone.

data "aws_route53_zone" "apex" {
  name = var.domain_name
}

resource "aws_route53_zone" "env" {
  count = var.dns_subdomain == "" ? 0 : 1
  name  = "${var.dns_subdomain}.${var.domain_name}"
}

resource "aws_route53_record" "delegation" {
  count   = var.dns_subdomain == "" ? 0 : 1
  zone_id = data.aws_route53_zone.apex.zone_id
  name    = aws_route53_zone.env[0].name
  type    = "NS"
  ttl     = 300
  records = aws_route53_zone.env[0].name_servers
}

locals {
  zone_id   = var.dns_subdomain == "" ? data.aws_route53_zone.apex.zone_id : aws_route53_zone.env[0].zone_id
  zone_arn  = var.dns_subdomain == "" ? data.aws_route53_zone.apex.arn : aws_route53_zone.env[0].arn
  zone_name = var.dns_subdomain == "" ? var.domain_name : aws_route53_zone.env[0].name
}

resource "aws_acm_certificate" "shop" {
  domain_name       = var.shop_host
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "shop_validation" {
  for_each = {
    for o in aws_acm_certificate.shop.domain_validation_options : o.domain_name => o
  }
  zone_id = local.zone_id
  name    = each.value.resource_record_name
  type    = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl     = 300
}

resource "aws_acm_certificate_validation" "shop" {
  certificate_arn         = aws_acm_certificate.shop.arn
  validation_record_fqdns = [for r in aws_route53_record.shop_validation : r.fqdn]
}

resource "aws_route53_record" "shop" {
  count   = var.ingress_hostname == "" ? 0 : 1
  zone_id = local.zone_id
  name    = var.shop_host
  type    = "CNAME"
  ttl     = 300
  records = [var.ingress_hostname]
}

module "cert_manager_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.44.0"

  role_name                     = "${local.name}-cert-manager"
  attach_cert_manager_policy    = true
  cert_manager_hosted_zone_arns = [local.zone_arn]

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["cert-manager:cert-manager"]
    }
  }
}

module "external_dns_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "5.44.0"

  role_name                     = "${local.name}-external-dns"
  attach_external_dns_policy    = true
  external_dns_hosted_zone_arns = [local.zone_arn]

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["external-dns:external-dns"]
    }
  }
}
