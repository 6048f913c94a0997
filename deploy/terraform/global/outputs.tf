output "zone_id" {
  description = "The apex zone; the environment stacks look it up by name."
  value       = aws_route53_zone.apex.zone_id
}

output "zone_name_servers" {
  description = "Name servers to delegate the domain to at the registrar."
  value       = aws_route53_zone.apex.name_servers
}

output "ecr_repository_url" {
  description = "Where the release workflow pushes images."
  value       = aws_ecr_repository.repo["app"].repository_url
}

output "chart_repository_url" {
  description = "Where the release workflow pushes the packaged chart (oci://<registry>/charts)."
  value       = aws_ecr_repository.repo["chart"].repository_url
}

output "github_oidc_provider_arn" {
  description = "GitHub's OIDC provider; the environments' deploy roles trust it."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "release_role_arn" {
  description = "The release workflow's role (GitHub secret AWS_RELEASE_ROLE_ARN)."
  value       = aws_iam_role.release.arn
}
