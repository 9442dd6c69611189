// Which struct decodes a ring buffer's events without asking (issue 11): the object's own structs, then
// its source's header structs, kernel types never on their own; and the generated unit that gives a
// header's structs BTF.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { BtfType } from '../../extension/protocol/types';
import {
  autoEventStruct,
  eventStructCandidates,
  fitsRecord,
  rankEventStructs,
} from '../../extension/formats/event-struct';
import { headerUnit, localIncludes, structNamesIn } from '../../extension/toolchain/header-structs';
import { structPickItems } from '../../extension/host/features/trace-panel/struct-picks';

const struct = (name: string, size: number): BtfType => ({ kind: 'struct', name, size, members: [] });
const samples = path.join(__dirname, '..', '..', 'bpf-samples');

describe('event struct of a ring buffer', () => {
  // execsnoop's object without the anchor: only kernel types, one of them 288 bytes like struct exec_event.
  const kernelOnly = {
    task_struct: struct('task_struct', 9792),
    trace_event_raw_sched_process_exec: struct('trace_event_raw_sched_process_exec', 24),
    some_kernel_thing: struct('some_kernel_thing', 288),
  };
  const kernelNames = new Set(['task_struct', 'trace_event_raw_sched_process_exec', 'some_kernel_thing']);

  it('takes the struct of the source header when the object lacks it, never a kernel type of the same size', () => {
    const candidates = eventStructCandidates(kernelOnly, { exec_event: struct('exec_event', 288) }, kernelNames);
    assert.equal(autoEventStruct(candidates, 288)?.name, 'exec_event');
    assert.equal(autoEventStruct(candidates, 288)?.origin, 'header');
    assert.equal(autoEventStruct(eventStructCandidates(kernelOnly, {}, kernelNames), 288), undefined);
  });

  it("prefers the object's own struct (the anchor) over a header's of the same size", () => {
    const candidates = eventStructCandidates(
      { ...kernelOnly, exec_event: struct('exec_event', 288) },
      { exec_event: struct('exec_event', 288), other_288: struct('other_288', 288) },
      kernelNames,
    );
    assert.deepEqual(autoEventStruct(candidates, 288), {
      name: 'exec_event',
      type: struct('exec_event', 288),
      origin: 'object',
    });
  });

  it('asks when two own structs fit, offering own structs that fit first and kernel types last', () => {
    const candidates = eventStructCandidates(
      { ...kernelOnly, a_event: struct('a_event', 288), b_event: struct('b_event', 288), small: struct('small', 8) },
      { from_header: struct('from_header', 288) },
      kernelNames,
    );
    assert.equal(autoEventStruct(candidates, 288), undefined);
    assert.deepEqual(
      rankEventStructs(candidates, 288).map((c) => `${c.origin}:${c.name}`),
      [
        'object:a_event',
        'object:b_event',
        'header:from_header',
        'object:small',
        'kernel:some_kernel_thing',
        'kernel:task_struct',
        'kernel:trace_event_raw_sched_process_exec',
      ],
    );
    const items = structPickItems(rankEventStructs(candidates, 288), 288);
    assert.equal(items[0].label, 'struct a_event');
    assert.match(items[0].description!, /288 bytes · fits · the object's BTF/);
    assert.deepEqual(items[4], { label: 'kernel types', kind: -1 });
  });

  it('keeps a remembered choice while it fits, and matches padded perf samples', () => {
    const candidates = eventStructCandidates({ a: struct('a', 20), b: struct('b', 20) }, {}, new Set());
    assert.equal(autoEventStruct(candidates, 20, 'b')?.name, 'b');
    assert.equal(autoEventStruct(candidates, 40, 'b'), undefined);
    // A 20-byte struct in a perf sample padded to 20 + 4 = 24 -> record of 20..; 28-byte record holds 24.
    assert.ok(fitsRecord(struct('x', 20), 20));
    assert.ok(fitsRecord(struct('x', 24), 28));
    assert.ok(!fitsRecord(struct('x', 16), 28));
  });
});

describe('header structs unit', () => {
  it("finds execsnoop's own header and its struct, not vmlinux.h or libbpf's headers", () => {
    const source = fs.readFileSync(path.join(samples, 'execsnoop', 'execsnoop.bpf.c'), 'utf8');
    assert.deepEqual(localIncludes(source), ['execsnoop.h']);
    const header = fs.readFileSync(path.join(samples, 'execsnoop', 'execsnoop.h'), 'utf8');
    assert.deepEqual(structNamesIn(header), ['exec_event']);
    assert.deepEqual(structNamesIn('/* struct not_me { */ struct a { int x; };\n// struct b {\nstruct c{int y;};'), [
      'a',
      'c',
    ]);
  });

  it('includes what the source includes, in order, then one unused pointer per struct', () => {
    const unit = headerUnit('#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nint x;\n#include "ev.h"\n', [
      'ev',
      'other',
    ]);
    assert.deepEqual(unit.split('\n').slice(1), [
      '#include "vmlinux.h"',
      '#include <bpf/bpf_helpers.h>',
      '#include "ev.h"',
      '',
      'struct ev *__ebpf_studio_struct_0 __attribute__((unused));',
      'struct other *__ebpf_studio_struct_1 __attribute__((unused));',
      '',
    ]);
  });
});
