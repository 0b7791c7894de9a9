output "table" {
  description = "This region's table, if it has one: its ARN, the ARN of the table or replica in each region it serves, and its index names. Only table outputs, so that other regions' wiring can read them without waiting on this region's logger."
  value = {
    arn            = one(module.table[*].arn)
    arns_by_region = merge({}, module.table[*].arns_by_region...)
    index_names    = flatten(module.table[*].index_names)
  }
}

output "logger" {
  description = "Every output of this region's regional-logger module."
  value       = module.logger
}
