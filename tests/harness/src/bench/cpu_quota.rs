//! A CPU quota for a function process, the share of a vCPU Lambda gives a memory size.
//!
//! Lambda allots CPU in proportion to memory: "at 1,769 MB, a function has the equivalent of
//! one vCPU" (AWS Lambda Developer Guide, "Configure Lambda function memory"). A 128 MB
//! function gets 128/1769 = 7.24 % of a vCPU. Here that is a CFS bandwidth quota on a
//! control group the function process joins before exec ([`crate::FunctionCommand::cgroup`]):
//! cgroup v1's `cpu` controller when it is mounted and writable, else cgroup v2's `cpu.max`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The memory size that gets one full vCPU.
pub const FULL_VCPU_MB: u32 = 1769;
/// The CFS period quotas are expressed in (the kernel's default).
const PERIOD_US: u64 = 100_000;
const V1_CPU: &str = "/sys/fs/cgroup/cpu";
const V2_ROOT: &str = "/sys/fs/cgroup";

/// The share of one vCPU, in percent, a function of `memory_mb` gets.
pub fn vcpu_percent(memory_mb: u32) -> f64 {
    100.0 * f64::from(memory_mb) / f64::from(FULL_VCPU_MB)
}

/// The quota per [`PERIOD_US`] for `memory_mb`.
pub fn quota_us(memory_mb: u32) -> u64 {
    (PERIOD_US as f64 * f64::from(memory_mb) / f64::from(FULL_VCPU_MB)).round() as u64
}

/// A control group with a CPU quota; removed on drop (its processes must have exited).
#[derive(Debug)]
pub struct CpuQuota {
    dir: PathBuf,
    memory_mb: u32,
    version: u8,
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .map_err(|e| Error::io(format!("writing {value:?} to {}", path.display()), e))
}

impl CpuQuota {
    /// A new group `name` limited to the CPU share of `memory_mb`. Fails with one sentence
    /// naming both places tried when neither cgroup version's cpu controller is writable.
    pub fn create(name: &str, memory_mb: u32) -> Result<Self> {
        let quota = quota_us(memory_mb);
        let v1 = Path::new(V1_CPU);
        if v1.join("cpu.cfs_quota_us").is_file() {
            let dir = v1.join(name);
            if std::fs::create_dir(&dir).is_ok() || dir.is_dir() {
                let group = Self {
                    dir,
                    memory_mb,
                    version: 1,
                };
                write(&group.dir.join("cpu.cfs_period_us"), &PERIOD_US.to_string())?;
                write(&group.dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
                return Ok(group);
            }
        }
        let v2 = Path::new(V2_ROOT);
        let controllers =
            std::fs::read_to_string(v2.join("cgroup.controllers")).unwrap_or_default();
        if controllers.split_whitespace().any(|c| c == "cpu") {
            // The cpu controller must be enabled for children; harmless when it already is.
            let _ = std::fs::write(v2.join("cgroup.subtree_control"), "+cpu");
            let dir = v2.join(name);
            if std::fs::create_dir(&dir).is_ok() || dir.is_dir() {
                let group = Self {
                    dir,
                    memory_mb,
                    version: 2,
                };
                write(&group.dir.join("cpu.max"), &format!("{quota} {PERIOD_US}"))?;
                return Ok(group);
            }
        }
        Err(Error::Setup(format!(
            "no writable cgroup cpu controller (v1 {V1_CPU}/cpu.cfs_quota_us, v2 {V2_ROOT}/cgroup.controllers with cpu): \
             a CPU quota needs root on a host that mounts one"
        )))
    }

    /// The file a process writes itself into to join the group.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    pub fn memory_mb(&self) -> u32 {
        self.memory_mb
    }

    /// How the quota is set, for the report.
    pub fn describe(&self) -> String {
        format!(
            "cgroup v{}, {} µs per {PERIOD_US} µs ({:.2} % of a vCPU)",
            self.version,
            quota_us(self.memory_mb),
            vcpu_percent(self.memory_mb)
        )
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_shares() {
        assert_eq!(quota_us(128), 7236);
        assert_eq!(quota_us(256), 14471);
        assert_eq!(quota_us(512), 28943);
        assert_eq!(quota_us(FULL_VCPU_MB), PERIOD_US);
    }
}
