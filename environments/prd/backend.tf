# State in S3: the bucket, key, region and lock settings are in backend.hcl
# (terraform init -backend-config=backend.hcl; see environments/README.md, "State").
terraform {
  backend "s3" {}
}
