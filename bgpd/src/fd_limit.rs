//! The process's descriptor limit (RLIMIT_NOFILE). The `bgpd` program (main.rs) raises its
//! soft limit to the hard limit at start, so that the sessions have headroom, and sizes what outsiders can hold
//! open (the HTTP endpoint's connection cap) as a small fraction of it.
// getrlimit/setrlimit have no std API: unsafe is allowed here only.
#![allow(unsafe_code)]
use std::io;

/// Raise the soft limit to the hard one; returns the soft limit in force afterwards.
pub fn raise_soft_to_hard() -> io::Result<u64> {
    let mut lim = current()?;
    if lim.rlim_cur < lim.rlim_max {
        let wanted = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
        // SAFETY: setrlimit reads a fully initialised struct we pass by pointer.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
            lim = wanted;
        } else {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(lim.rlim_cur)
}

/// The soft limit now.
pub fn soft_limit() -> io::Result<u64> {
    Ok(current()?.rlim_cur)
}

fn current() -> io::Result<libc::rlimit> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass by pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let hard = current().unwrap().rlim_max;
        if hard == libc::RLIM_INFINITY {
            return; // the kernel caps NOFILE at fs.nr_open: nothing to check here
        }
        let soft = raise_soft_to_hard().unwrap();
        assert_eq!(soft, hard);
        assert_eq!(soft_limit().unwrap(), hard);
    }
}
