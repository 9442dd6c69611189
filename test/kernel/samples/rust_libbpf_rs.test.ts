// rust_libbpf_rs on the real kernel: the BPF side of the libbpf-rs crate (src/bpf/forks.bpf.c) builds with
// eBPF Studio's compiler, verifies, and does what src/main.rs expects of it: with parent_filter set to
// this process, its forks are counted in forks_by_parent and arrive as fork_event records. (The Rust
// loader itself cannot be built without crates.io; see the sample's README.)
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { splitRecords } from '../../../extension/formats/event-decode';
import { loadNative } from '../../../native/index';
import type { EventBatch } from '../../../native/index';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  forkChildren,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
} from '../../support/kernel';

const CRATE = path.join(repoRoot, 'bpf-samples', 'rust_libbpf_rs');

describe('sample rust_libbpf_rs (BPF side)', function () {
  let baseline: KernelObjects;

  before(function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    baseline = kernelObjects();
  });

  after(async function () {
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('has the layout of a libbpf-rs crate', () => {
    const manifest = fs.readFileSync(path.join(CRATE, 'Cargo.toml'), 'utf8');
    assert.match(manifest, /\[build-dependencies\]\s*\nlibbpf-cargo = /);
    assert.match(manifest, /\[dependencies\][^[]*\nlibbpf-rs = /);
    assert.match(fs.readFileSync(path.join(CRATE, 'build.rs'), 'utf8'), /SkeletonBuilder::new\(\)\s*\.source\(SRC\)/);
    assert.ok(fs.existsSync(path.join(CRATE, 'src', 'main.rs')));
  });

  it("builds, verifies, counts this process's forks and sends each as a fork_event", async () => {
    const addon = loadNative();
    const object = await buildObject(path.join(CRATE, 'src', 'bpf', 'forks.bpf.c'));
    const pid = Buffer.alloc(4);
    pid.writeUInt32LE(process.pid);
    const outcome = await addon.loadObject({ path: object, variables: { parent_filter: pid } });
    assert.ok(outcome.object, `load failed: ${outcome.error?.message}`);
    const obj = outcome.object;
    const batches: EventBatch[] = [];
    const events = obj.maps().find((m) => m.name === 'events')!;
    const consumer = addon.consumeRingBuffer(events.id, (b) => batches.push(b));
    const link = obj.attach('count_fork', { kind: 'auto' });
    try {
      forkChildren(3);
      await eventually(() => (batches.reduce((n, b) => n + b.count, 0) >= 3 ? true : undefined));
      const counts = addon.openMap(obj.maps().find((m) => m.name === 'forks_by_parent')!.id);
      try {
        const value = counts.lookup(pid);
        assert.ok(value, 'forks_by_parent has this process');
        assert.equal(value.readBigUInt64LE(0), 3n);
      } finally {
        counts.close();
      }
    } finally {
      link.detach();
      consumer.close();
      obj.close();
    }
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    const records = batches.flatMap((b) => {
      const { offsets, lengths, count } = splitRecords(b.data);
      return Array.from({ length: count }, (_, i) => b.data.subarray(offsets[i], offsets[i] + lengths[i]));
    });
    assert.equal(records.length, 3, 'one event per fork, nothing from other parents');
    for (const r of records) {
      assert.equal(r.length, 24, 'struct fork_event: two u32 and comm[16]');
      assert.equal(r.readUInt32LE(0), process.pid);
      assert.ok(r.readUInt32LE(4) > 0);
      assert.equal(r.subarray(8, 24).toString('latin1').replace(/\0.*$/s, ''), comm);
    }
  });
});
