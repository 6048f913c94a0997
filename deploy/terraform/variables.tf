variable "environment" {
  description = "Deployment name: staging or prod. Prefixes every resource."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "The environment must be staging or prod."
  }
}

variable "region" {
  description = "AWS region (Mumbai, close to the shop's customers)."
  type        = string
  default     = "ap-south-1"
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; the app's NetworkPolicy allows Postgres and Redis inside it."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Zones for subnets, EKS nodes, RDS Multi-AZ and Redis replicas."
  type        = list(string)
  default     = ["ap-south-1a", "ap-south-1b", "ap-south-1c"]
}

variable "cluster_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.31"
}

variable "node_instance_types" {
  description = "EC2 instance types of the EKS managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Smallest node count."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Largest node count (the cluster autoscaler stays within it)."
  type        = number
  default     = 6
}

variable "db_instance_class" {
  description = "RDS Postgres instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB; it grows automatically up to four times this."
  type        = number
  default     = 50
}

variable "redis_node_type" {
  description = "ElastiCache Redis node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "domain_name" {
  description = "The apex domain, whose zone the global stack owns, e.g. example.com."
  type        = string
}

variable "dns_subdomain" {
  description = "This environment's own zone under the apex (staging → staging.example.com), delegated from it; empty puts the environment's records in the apex zone (prod)."
  type        = string
  default     = ""
}

variable "shop_host" {
  description = "The shop's host name inside this environment's zone, e.g. shop.example.com or shop.staging.example.com."
  type        = string
}

variable "ingress_hostname" {
  description = "The ingress-nginx load balancer's DNS name, once Ansible has installed it; empty skips the record (external-dns can own it instead)."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "app_namespace" {
  description = "The Kubernetes namespace the chart is installed in; the deploy role administers it."
  type        = string
  default     = "bazaar"
}

variable "admin_role_arn" {
  description = "IAM role whose holders administer the cluster (an EKS access entry with cluster admin), e.g. an SSO administrator role."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy workflow may assume this environment's deploy role."
  type        = string
}

variable "bastion_instance_type" {
  description = "EC2 instance type of the SSM bastion."
  type        = string
  default     = "t3.micro"
}

variable "stripe_secret_key" {
  description = "Stripe secret key (sk_live_… in prod), written into the app's secret bundle. Pass as TF_VAR_stripe_secret_key."
  type        = string
  sensitive   = true
}

variable "stripe_webhook_secret" {
  description = "Stripe webhook signing secret (whsec_…). Pass as TF_VAR_stripe_webhook_secret."
  type        = string
  sensitive   = true
}

variable "smtp_url" {
  description = "SMTP URL with credentials (smtps://user:password@host). Pass as TF_VAR_smtp_url."
  type        = string
  sensitive   = true
}
