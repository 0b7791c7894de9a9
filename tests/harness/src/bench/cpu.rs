//! CPU time of a process, from `/proc`.

/// CPU time a process has used (all its threads, live or exited), from `/proc/<pid>/stat`
/// (`utime` + `stime`, in clock ticks).
pub fn process_cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant of the system; it touches no memory of ours.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| ticks as f64 * 1000.0 / per_second as f64)
}

/// CPU time of a process's live threads in nanoseconds resolution, from
/// `/proc/<pid>/task/*/schedstat`; finer than [`process_cpu_ms`] but blind to exited threads.
pub fn threads_cpu_ms(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos: u64 = 0;
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        nanos += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanos as f64 / 1e6)
}

/// The finer measure unless threads have exited (then the tick count is the larger).
pub fn cpu_ms(pid: u32) -> f64 {
    match (threads_cpu_ms(pid), process_cpu_ms(pid)) {
        (Some(threads), Some(process)) if threads + 20.0 >= process => threads,
        (_, Some(process)) => process,
        (Some(threads), None) => threads,
        (None, None) => f64::NAN,
    }
}
