output "cluster_name" {
  description = "EKS cluster name, for `aws eks update-kubeconfig --name`."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "EKS API endpoint (private; reach it from the bastion)."
  value       = module.eks.cluster_endpoint
}

output "media_bucket" {
  description = "The media bucket, for MEDIA_STORE=s3://<bucket>."
  value       = aws_s3_bucket.media.bucket
}

output "media_role_arn" {
  description = "IRSA role for the app's ServiceAccount (eks.amazonaws.com/role-arn)."
  value       = module.media_irsa.iam_role_arn
}

output "cert_manager_role_arn" {
  description = "IRSA role for cert-manager's DNS01 solver."
  value       = module.cert_manager_irsa.iam_role_arn
}

output "external_dns_role_arn" {
  description = "IRSA role for external-dns."
  value       = module.external_dns_irsa.iam_role_arn
}

output "app_secret_name" {
  description = "Secrets Manager secret the ExternalSecret reads (remoteKey)."
  value       = aws_secretsmanager_secret.app.name
}

output "zone_name" {
  description = "This environment's zone: Ansible's route53_zone (external-dns's domain filter)."
  value       = local.zone_name
}

output "bastion_instance_id" {
  description = "The SSM bastion: Ansible's ansible_aws_ssm_instance_id and the deploy tunnel's target."
  value       = aws_instance.bastion.id
}

output "deploy_role_arn" {
  description = "The deploy workflow's role for this environment (GitHub environment secret AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "external_secrets_role_arn" {
  description = "IRSA role for External Secrets' controller (Ansible's external_secrets_role_arn)."
  value       = module.external_secrets_irsa.iam_role_arn
}

output "certificate_arn" {
  description = "ACM certificate for the shop host (for an ALB or NLB TLS listener)."
  value       = aws_acm_certificate_validation.shop.certificate_arn
}

output "account_id" {
  description = "The AWS account the stack lives in."
  value       = data.aws_caller_identity.current.account_id
}

output "events_queue" {
  description = "The outbox events' FIFO queue, for EVENT_BUS_URL=sqs://<name> (eventBus.url)."
  value       = aws_sqs_queue.events.name
}

output "events_dead_letter_queue" {
  description = "Where events a consumer keeps failing on end up."
  value       = aws_sqs_queue.events_dlq.name
}
