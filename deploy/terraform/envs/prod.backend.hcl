bucket         = "bazaar-terraform-state"
key            = "prod/terraform.tfstate"
region         = "ap-south-1"
dynamodb_table = "bazaar-terraform-locks"
encrypt        = true
