environment         = "staging"
domain_name         = "example.com"
shop_host           = "staging.shop.example.com"
node_instance_types = ["t3.large"]
node_min_size       = 2
node_max_size       = 3
db_instance_class   = "db.t4g.small"
redis_node_type     = "cache.t4g.micro"
