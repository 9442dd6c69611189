//! A minimal libbpf-rs loader: opens the skeleton of src/bpf/forks.bpf.c, sets `parent_filter`, loads
//! and attaches it, prints each fork from the ring buffer for a few seconds, then the counts per parent.
//!
//!     sudo ./target/debug/forks [SECONDS] [PARENT_PID]

use std::env;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, RingBufferBuilder};

mod forks {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/bpf/forks.skel.rs"
    ));
}
use forks::ForksSkelBuilder;

/// `struct fork_event` of forks.bpf.c: two u32 pids and a 16-byte command name.
fn print_event(data: &[u8]) -> i32 {
    if data.len() < 24 {
        return 0;
    }
    let parent = u32::from_ne_bytes(data[0..4].try_into().unwrap());
    let child = u32::from_ne_bytes(data[4..8].try_into().unwrap());
    let comm = &data[8..24];
    let comm =
        String::from_utf8_lossy(&comm[..comm.iter().position(|&b| b == 0).unwrap_or(comm.len())]);
    println!("fork parent={parent} ({comm}) child={child}");
    0
}

fn main() -> Result<()> {
    let mut args = env::args().skip(1);
    let seconds: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()
        .context("SECONDS")?
        .unwrap_or(10);
    let parent_filter: u32 = args
        .next()
        .map(|s| s.parse())
        .transpose()
        .context("PARENT_PID")?
        .unwrap_or(0);

    let mut open_object = MaybeUninit::uninit();
    let mut open_skel = ForksSkelBuilder::default().open(&mut open_object)?;
    open_skel
        .maps
        .rodata_data
        .as_deref_mut()
        .context("`.rodata` is not memory mapped")?
        .parent_filter = parent_filter;
    let mut skel = open_skel.load()?;
    skel.attach()?;

    let mut ring = RingBufferBuilder::new();
    ring.add(&skel.maps.events, print_event)?;
    let ring = ring.build()?;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        ring.poll(Duration::from_millis(100))?;
    }

    for key in skel.maps.forks_by_parent.keys() {
        if let Some(value) = skel.maps.forks_by_parent.lookup(&key, MapFlags::ANY)? {
            let parent = u32::from_ne_bytes(key[..4].try_into()?);
            let forks = u64::from_ne_bytes(value[..8].try_into()?);
            println!("parent {parent}: {forks} forks");
        }
    }
    let dropped = skel.maps.bss_data.as_deref().map_or(0, |bss| bss.dropped);
    if dropped > 0 {
        println!("{dropped} events dropped (ring buffer full)");
    }
    Ok(())
}
