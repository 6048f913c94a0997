variable "region" {
  description = "AWS region of the repositories (the environments' region)."
  type        = string
  default     = "ap-south-1"
}

variable "domain_name" {
  description = "The shop's apex domain; its Route53 zone is created here, once."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows may assume the release role."
  type        = string
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
