# Bazaar on AWS, one environment: a VPC, an EKS cluster reached through an SSM bastion,
# Postgres (RDS), Redis (ElastiCache), a media bucket the pods reach through IRSA, the
# environment's DNS zone and certificate, and the deploy role. What both environments
# share (the apex zone, ECR, GitHub's OIDC provider) is in global/.

locals {
  name = "bazaar-${var.environment}"
  tags = merge(var.tags, {
    Project     = "bazaar"
    Environment = var.environment
    ManagedBy   = "terraform"
  })
  private_subnets  = [for i, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets   = [for i, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, 200 + i)]
  database_subnets = [for i, _ in var.availability_zones : cidrsubnet(var.vpc_cidr, 8, 220 + i)]
  # The GitHub environment whose jobs may deploy here (deploy.yml's `environment:`).
  github_environment = var.environment == "prod" ? "production" : var.environment
}

data "aws_caller_identity" "current" {}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.13.0"

  name             = local.name
  cidr             = var.vpc_cidr
  azs              = var.availability_zones
  private_subnets  = local.private_subnets
  public_subnets   = local.public_subnets
  database_subnets = local.database_subnets

  create_database_subnet_group = true
  enable_nat_gateway           = true
  single_nat_gateway           = var.environment != "prod"
  enable_dns_hostnames         = true
  enable_flow_log              = true

  create_flow_log_cloudwatch_log_group = true
  create_flow_log_cloudwatch_iam_role  = true

  public_subnet_tags  = { "kubernetes.io/role/elb" = "1" }
  private_subnet_tags = { "kubernetes.io/role/internal-elb" = "1" }
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "20.24.0"

  cluster_name    = local.name
  cluster_version = var.cluster_version
  vpc_id          = module.vpc.vpc_id
  subnet_ids      = module.vpc.private_subnets

  # The API is reachable from the bastion (inside the VPC) only.
  cluster_endpoint_public_access  = false
  cluster_endpoint_private_access = true
  enable_irsa                     = true
  cluster_enabled_log_types       = ["api", "audit", "authenticator"]

  # Access entries, not the aws-auth ConfigMap. Module v20 grants the creator nothing, so
  # access is named here: people through the admin role, Ansible from the bastion, and the
  # deploy workflow in the app's namespaces only.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = false
  access_entries = {
    admin = {
      principal_arn = var.admin_role_arn
      policy_associations = {
        cluster = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
    bastion = {
      principal_arn = aws_iam_role.bastion.arn
      policy_associations = {
        cluster = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
    deploy = {
      principal_arn = aws_iam_role.deploy.arn
      policy_associations = {
        app = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
          access_scope = { type = "namespace", namespaces = [var.app_namespace, "monitoring"] }
        }
      }
    }
  }

  # The API is private: only the bastion's security group reaches it (the deploy workflow
  # tunnels through the bastion with SSM port forwarding).
  cluster_security_group_additional_rules = {
    bastion_https = {
      description              = "kubectl and helm from the bastion"
      type                     = "ingress"
      protocol                 = "tcp"
      from_port                = 443
      to_port                  = 443
      source_security_group_id = aws_security_group.bastion.id
    }
  }

  eks_managed_node_groups = {
    general = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_min_size
    }
  }
}
