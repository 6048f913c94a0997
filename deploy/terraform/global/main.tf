# What exists once per account and domain, shared by staging and prod: the apex DNS zone,
# the image and chart repositories, GitHub's OIDC provider and the release role that pushes
# to both. Apply it before either environment (`terraform init
# -backend-config=../envs/global.backend.hcl && terraform apply -var-file=../envs/global.tfvars`).

terraform {
  required_version = ">= 1.0.3"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }

  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, { Project = "bazaar", Environment = "global", ManagedBy = "terraform" })
  }
}

data "aws_caller_identity" "current" {}

# The apex zone. prod's records live here; staging delegates staging.<domain> from it.
resource "aws_route53_zone" "apex" {
  name = var.domain_name
}

resource "aws_kms_key" "ecr" {
  description         = "Bazaar image and chart repositories"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministers"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

# One image repository for every environment (staging and prod run the same digest), and
# the Helm chart as an OCI artifact versioned with the release (helm push oci://…/charts).
resource "aws_ecr_repository" "repo" {
  for_each             = { app = "bazaar", chart = "charts/bazaar" }
  name                 = each.value
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.ecr.arn
  }
}

resource "aws_ecr_lifecycle_policy" "repo" {
  for_each   = aws_ecr_repository.repo
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 100 versions"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 100 }
      action       = { type = "expire" }
    }]
  })
}

# GitHub Actions' OIDC identity provider (one per account): workflows assume roles with a
# short-lived token instead of stored keys.
resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # AWS trusts GitHub's certificate through its own store; the thumbprints are required
  # by the API and are GitHub's published intermediates.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

# The release workflow (.github/workflows/release.yml): main and version tags only.
resource "aws_iam_role" "release" {
  name = "bazaar-github-release"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.github.arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" }
        StringLike = {
          "token.actions.githubusercontent.com:sub" = [
            "repo:${var.github_repository}:ref:refs/heads/main",
            "repo:${var.github_repository}:ref:refs/tags/v*",
          ]
        }
      }
    }]
  })
}

data "aws_iam_policy_document" "release" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PushImageAndChart"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload",
      "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [for r in aws_ecr_repository.repo : r.arn]
  }
  statement {
    sid       = "RepositoryKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.ecr.arn]
  }
}

resource "aws_iam_role_policy" "release" {
  name   = "push"
  role   = aws_iam_role.release.id
  policy = data.aws_iam_policy_document.release.json
}
