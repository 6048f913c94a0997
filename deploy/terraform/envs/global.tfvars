domain_name       = "example.com"
github_repository = "bazaar-shop/bazaar"
