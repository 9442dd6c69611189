// Per-program verification keys (formats/program-keys.ts) on objects clang builds: an edit changes the key of
// the programs it can change the verdict of, and no other; lines that move change only the line-info keys.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { programKeys, type ProgramKey } from '../../extension/formats/program-keys';
import { elfSections } from '../../extension/formats/elf-sections';
import { tempDir } from '../support/kernel';

interface Parts {
  /** Lines put above everything (moves every line below). */
  above?: string;
  bump?: number;
  triple?: number;
  a?: number;
  c?: number;
  limit?: number;
  entries?: number;
}

// Three programs: a_prog calls bump (which uses the map), b_prog calls triple and reads a .rodata const,
// c_prog calls nothing. Each number is a constant inside one of them.
const source = (p: Parts) => `${p.above ?? ''}#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, ${p.entries ?? 4});
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");
const volatile __u32 limit = ${p.limit ?? 3};
static __noinline int bump(__u32 k)
{
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (!v)
    return 0;
  __sync_fetch_and_add(v, ${p.bump ?? 1});
  return 1;
}
static __noinline int triple(__u32 k)
{
  return k * ${p.triple ?? 3};
}
SEC("xdp") int a_prog(struct xdp_md *ctx)
{
  return bump(ctx->rx_queue_index + ${p.a ?? 0}) ? XDP_PASS : XDP_DROP;
}
SEC("xdp") int b_prog(struct xdp_md *ctx)
{
  return triple(ctx->ingress_ifindex) > limit ? XDP_PASS : XDP_DROP;
}
SEC("tc") int c_prog(struct __sk_buff *skb)
{
  return skb->len > ${p.c ?? 100} ? 1 : 0;
}
`;

let dir = '';

/** Builds in one place under one name, as saves of one file do (line info names the file by its path). */
function build(parts: Parts): Map<string, ProgramKey> {
  const src = path.join(dir, 'multi.bpf.c');
  const obj = path.join(dir, 'multi.bpf.o');
  fs.writeFileSync(src, source(parts));
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', src, '-o', obj]);
  const keys = programKeys(fs.readFileSync(obj));
  assert.ok(keys, 'keys for a clang-built object');
  return keys;
}

/** The programs whose verdict key differs between two builds. */
const changed = (a: Map<string, ProgramKey>, b: Map<string, ProgramKey>, which: keyof ProgramKey = 'verdict') =>
  [...a.keys()].filter((name) => a.get(name)![which] !== b.get(name)![which]).sort();

describe('per-program verification keys', function () {
  this.timeout(120_000);
  let base: Map<string, ProgramKey>;
  before(() => {
    dir = tempDir('program-keys');
    base = build({});
  });

  it('has a key for each program and none for subprograms', () => {
    assert.deepEqual([...base.keys()].sort(), ['a_prog', 'b_prog', 'c_prog']);
  });

  it('gives the same keys to the same source built again', () => {
    assert.deepEqual(build({}), base);
  });

  it('changes, for an edit inside one function, the keys of that function and its callers only', () => {
    const users: Record<'bump' | 'triple' | 'a' | 'c', string[]> = {
      bump: ['a_prog'],
      triple: ['b_prog'],
      a: ['a_prog'],
      c: ['c_prog'],
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(users) as (keyof typeof users)[])),
        fc.integer({ min: 5, max: 1000 }),
        (where, value) => {
          const edited = build({ [where]: value });
          assert.deepEqual(changed(base, edited), users[where], `${where} = ${value}`);
          assert.deepEqual(changed(base, edited, 'lines'), users[where]);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('keeps verdict keys and changes line keys when lines are added above', () => {
    const moved = build({ above: '// one\n// two\n\n' });
    assert.deepEqual(changed(base, moved), []);
    assert.deepEqual(changed(base, moved, 'lines'), ['a_prog', 'b_prog', 'c_prog']);
  });

  it('changes the key of the programs that read a changed .rodata constant', () => {
    assert.deepEqual(changed(base, build({ limit: 7 })), ['b_prog']);
  });

  it('changes the keys of the map users when a map definition changes', () => {
    // The map's BTF changes, and every program's load creates every map: all keys change.
    const keys = build({ entries: 8 });
    assert.ok(changed(base, keys).includes('a_prog'));
    assert.deepEqual(changed(base, keys), ['a_prog', 'b_prog', 'c_prog']);
  });

  it('has no keys for what is not an ELF64 object, and never throws on damaged bytes', () => {
    assert.equal(programKeys(Buffer.from('not an object')), undefined);
    assert.equal(programKeys(Buffer.alloc(64)), undefined);
    const elf = fs.readFileSync(path.join(dir, 'multi.bpf.o'));
    const btf = elfSections(elf)!.find((s) => s.name === '.BTF')!;
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(elf.length - 1), byte: fc.nat(255) }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (flips, inBtf) => {
          const copy = Buffer.from(elf);
          for (const { at, byte } of flips) copy[inBtf ? btf.offset + (at % btf.size) : at] = byte;
          const keys = programKeys(copy);
          assert.ok(keys === undefined || keys instanceof Map);
        },
      ),
      { numRuns: 300 },
    );
  });
});
