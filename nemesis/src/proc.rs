//! Reading a process's identity and accounting from /proc.

/// The fields of `/proc/<pid>/stat` after the command name, i.e. from field 3 (the state) on.
/// `pid` may be `self`. The name may hold spaces and parentheses, so fields start after the
/// last `)`.
pub fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// A process's start time in clock ticks since boot (field 22). With the pid it names one
/// process: a recycled pid never matches it.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(&pid.to_string())?.get(19)?.parse().ok()
}

/// The processes in process group `pgid`, oldest first (by start time, then pid).
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members: Vec<(u64, u32)> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let f = stat_fields(&pid.to_string())?;
            // pgrp is field 5; start time field 22.
            (f.get(2)?.parse::<u32>().ok()? == pgid).then_some((f.get(19)?.parse().ok()?, pid))
        })
        .collect();
    members.sort_unstable();
    members.into_iter().map(|(_, pid)| pid).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_start_time_is_stable() {
        let me = std::process::id();
        let t = super::start_time(me).expect("own start time");
        assert_eq!(super::start_time(me), Some(t));
        assert_eq!(super::start_time(u32::MAX - 3), None);
    }
}
