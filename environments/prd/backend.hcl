# Fill in before the first `make deploy ENV=prd` (see environments/README.md, "State").
bucket       = "REPLACE-with-your-state-bucket"
key          = "ecs-state-logger/prd/terraform.tfstate"
region       = "REPLACE-with-the-state-bucket-region"
use_lockfile = true
encrypt      = true
