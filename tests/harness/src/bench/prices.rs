//! Prices the report costs a million events at: Lambda and DynamoDB on demand, read on one
//! date from AWS's price pages.

/// The date the prices below were read, and where (US East (N. Virginia), the region most
/// price lists quote first; on-demand, no free tier, no savings plan).
pub const PRICES_AS_OF: &str = "2025-07-21";
pub const LAMBDA_PRICE_PAGE: &str = "https://aws.amazon.com/lambda/pricing/";
pub const DYNAMODB_PRICE_PAGE: &str = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
/// Lambda requests, both architectures: USD per million.
pub const LAMBDA_USD_PER_MILLION_REQUESTS: f64 = 0.20;
/// Lambda duration, first tier (first 6 billion GB-s a month on x86_64, 7.5 billion on arm64).
pub const LAMBDA_X86_64_USD_PER_GB_SECOND: f64 = 0.000_016_666_7;
pub const LAMBDA_ARM64_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// DynamoDB on-demand write request units, Standard table class (the price since the
/// 2024-11-01 cut): USD per million. Index writes are charged the same way.
pub const DYNAMODB_USD_PER_MILLION_WRU: f64 = 0.625;
/// Global tables, per extra region: the item is written to the replica table as replicated
/// write request units (rWRU, one per started KiB of the item, "priced the same as
/// single-Region write units"), each index of the replica is written as ordinary write
/// request units at its entry's size, and the item crosses regions as data transfer
/// (USD per GB). Read on [`GLOBAL_TABLES_READ_ON`] at [`GLOBAL_TABLES_BILLING_PAGE`].
pub const DYNAMODB_USD_PER_MILLION_REPLICATED_WRU: f64 = 0.625;
pub const INTER_REGION_TRANSFER_USD_PER_GB: f64 = 0.02;
pub const GLOBAL_TABLES_BILLING_PAGE: &str =
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html";
pub const GLOBAL_TABLES_READ_ON: &str = "2026-11-30";
/// SNS standard topics: publish requests, USD per million (each 64 KB chunk is one; the
/// messages here are a few KB). Deliveries are billed per protocol on top (SQS and Lambda
/// free, HTTPS $0.60 per million, e-mail $2.00 per 100,000).
pub const SNS_PRICE_PAGE: &str = "https://aws.amazon.com/sns/pricing/";
pub const SNS_USD_PER_MILLION_PUBLISHES: f64 = 0.50;
/// The memory both functions are costed at.
pub const MEMORY_MB: u32 = 128;

/// USD for one million events of one implementation on one architecture.
pub struct Cost {
    pub requests: f64,
    pub duration: f64,
    pub writes: f64,
}

impl Cost {
    pub fn of(billed_ms: f64, units_per_event: f64, usd_per_gb_second: f64) -> Self {
        let gb = f64::from(MEMORY_MB) / 1024.0;
        Cost {
            requests: LAMBDA_USD_PER_MILLION_REQUESTS,
            duration: 1e6 * billed_ms / 1000.0 * gb * usd_per_gb_second,
            writes: units_per_event * DYNAMODB_USD_PER_MILLION_WRU,
        }
    }

    pub fn total(&self) -> f64 {
        self.requests + self.duration + self.writes
    }
}

pub fn usd(value: f64) -> String {
    format!("${value:.4}")
}
