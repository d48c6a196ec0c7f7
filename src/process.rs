//! This process, as the kernel counts it.

/// CPU seconds this process has used (user + system) from /proc (Linux); `None` elsewhere.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Raises this process's soft limit on open files to its hard limit, as Go's runtime does for
/// every program: each of a run's workers holds a connection and, on Linux, a timer, and a
/// soft limit of 1,024 would refuse a run of 600 workers that the hard limit allows. Returns the
/// limit in force, when it can be read.
pub fn raise_open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit read and write a valid rlimit.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        #[allow(clippy::unnecessary_cast, reason = "rlim_t is u64 on Linux, not on every unix")]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_limit() {
        let limit = super::raise_open_files();
        #[cfg(unix)]
        {
            let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: reads a valid rlimit.
            assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
            assert_eq!(limit, Some(lim.rlim_cur));
            assert_eq!(lim.rlim_cur, lim.rlim_max);
        }
    }
}
