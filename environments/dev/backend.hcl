# Fill in before the first `make deploy ENV=dev` (see environments/README.md, "State").
bucket       = "REPLACE-with-your-state-bucket"
key          = "ecs-state-logger/dev/terraform.tfstate"
region       = "REPLACE-with-the-state-bucket-region"
use_lockfile = true
encrypt      = true
