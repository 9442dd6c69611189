//! Compiles src/bpf/forks.bpf.c with clang and generates its skeleton (src/bpf/forks.skel.rs) with
//! libbpf-cargo, as a libbpf-rs crate does. vmlinux.h is dumped from the running kernel's BTF into
//! OUT_DIR with bpftool, so the crate builds against the kernel it runs on.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use libbpf_cargo::SkeletonBuilder;

const SRC: &str = "src/bpf/forks.bpf.c";

fn main() {
    let manifest_dir = PathBuf::from(
        env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR is set by cargo"),
    );
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let skeleton = manifest_dir.join("src").join("bpf").join("forks.skel.rs");

    let vmlinux = Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "c",
        ])
        .output()
        .expect("bpftool is needed to dump vmlinux.h (apt install bpftool / linux-tools)");
    assert!(
        vmlinux.status.success(),
        "bpftool btf dump failed: {}",
        String::from_utf8_lossy(&vmlinux.stderr)
    );
    fs::write(out_dir.join("vmlinux.h"), vmlinux.stdout).expect("writing vmlinux.h");

    SkeletonBuilder::new()
        .source(SRC)
        // libbpf-cargo adds -g -O2 -target bpf, libbpf's headers and -D__TARGET_ARCH_ for the target.
        .clang_args([OsStr::new("-I"), out_dir.as_os_str()])
        .build_and_generate(&skeleton)
        .expect("building the BPF program and its skeleton");
    println!("cargo:rerun-if-changed={SRC}");
}
