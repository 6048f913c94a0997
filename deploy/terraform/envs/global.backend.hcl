bucket         = "bazaar-terraform-state"
key            = "global/terraform.tfstate"
region         = "ap-south-1"
dynamodb_table = "bazaar-terraform-locks"
encrypt        = true
