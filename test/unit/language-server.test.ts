// Pure parts of the BPF language server: helper docs from a linux/bpf.h-shaped header, completion
// contexts and lists, BTF names, SEC function lenses, call/argument detection.
import { strict as assert } from 'assert';
import { parseBtfNames } from '../../extension/language-server/btf-names';
import { completionContext, sectionCompletions } from '../../extension/language-server/completion';
import { helperHoverMarkdown, parseHelperDocs, parseHelperIds } from '../../extension/language-server/helper-docs';
import { findSecFunctions, lensTexts } from '../../extension/language-server/lenses';
import { activeParameter, wordAt } from '../../extension/language-server/text';

// Written for this test in the header's layout (tabs, RST markup), not copied from the kernel.
const header = [
  '/* Some preamble.',
  ' *',
  ' * Start of BPF helper function descriptions:',
  ' *',
  ' * void *bpf_widget_find(struct bpf_map *map, const void *key)',
  ' * \tDescription',
  ' * \t\tFinds a *widget* by **key**.',
  ' *',
  ' * \t\tSecond paragraph.',
  ' * \tReturn',
  ' * \t\tThe widget, or **NULL**.',
  ' *',
  ' * long bpf_widget_count(void)',
  ' * \tDescription',
  ' * \t\tCounts widgets.',
  ' * \tReturn',
  ' * \t\tHow many.',
  ' */',
  '#define __BPF_FUNC_MAPPER(FN)\t\t\\',
  '\tFN(unspec),\t\t\t\\',
  '\tFN(widget_find),\t\t\\',
  '\tFN(widget_count),\t\t\\',
  '',
].join('\n');

describe('language server: helper docs', () => {
  it('reads prototypes, descriptions, returns and ids from the header layout', () => {
    const docs = parseHelperDocs(header);
    assert.deepStrictEqual([...docs.keys()], ['bpf_widget_find', 'bpf_widget_count']);
    const find = docs.get('bpf_widget_find')!;
    assert.equal(find.signature, 'void *bpf_widget_find(struct bpf_map *map, const void *key)');
    assert.equal(find.returnType, 'void *');
    assert.deepStrictEqual(find.params, ['struct bpf_map *map', 'const void *key']);
    assert.equal(find.description, 'Finds a _widget_ by **key**.\n\nSecond paragraph.');
    assert.equal(find.returns, 'The widget, or **NULL**.');
    assert.equal(find.id, 1);
    assert.deepStrictEqual(docs.get('bpf_widget_count')!.params, []);
    assert.match(
      helperHoverMarkdown(find),
      /^```c\nvoid \*bpf_widget_find\(.*\)\n```\n_Kernel documentation from linux\/bpf.h \(BPF_FUNC_widget_find = 1\)_/,
    );
  });

  it('takes explicit ids of newer headers (FN(name, id, ...))', () => {
    const ids = parseHelperIds(
      '#define __BPF_FUNC_MAPPER(FN, ctx...)\\\n\tFN(unspec, 0, ##ctx)\\\n\tFN(map_lookup_elem, 1, ##ctx)\\\n\tFN(late, 212, ##ctx)\n\n',
    );
    assert.deepStrictEqual(
      [...ids],
      [
        ['bpf_unspec', 0],
        ['bpf_map_lookup_elem', 1],
        ['bpf_late', 212],
      ],
    );
  });

  it('returns nothing for a header without the block', () => {
    assert.equal(parseHelperDocs('int x;').size, 0);
  });
});

describe('language server: completion', () => {
  it('knows where the cursor is', () => {
    assert.deepStrictEqual(completionContext('SEC("tracepoint/sch'), { kind: 'section', typed: 'tracepoint/sch' });
    assert.deepStrictEqual(completionContext('\t__uint(type, BPF_MAP_TYPE_R'), {
      kind: 'mapType',
      typed: 'BPF_MAP_TYPE_R',
    });
    assert.deepStrictEqual(completionContext('\t__uint(max'), { kind: 'mapField', macro: '__uint', typed: 'max' });
    assert.deepStrictEqual(completionContext('SEC("xdp") int f('), { kind: 'none' });
  });

  it("offers program types, then this kernel's targets after a prefix", () => {
    const kernel = {
      tracepoints: ['sched/sched_process_exec', 'sched/sched_process_fork', 'syscalls/sys_enter_read'],
      rawTracepoints: ['sched_switch'],
      functions: ['do_sys_openat2'],
    };
    const types = sectionCompletions('', kernel).map((c) => c.label);
    for (const t of ['xdp', 'tracepoint/', 'kprobe/', 'fentry/', 'lsm/', 'cgroup/connect4', 'tcx/ingress'])
      assert.ok(types.includes(t), t);
    assert.deepStrictEqual(
      sectionCompletions('tracepoint/sched/sched_process_f', kernel).map((c) => c.label),
      ['tracepoint/sched/sched_process_fork'],
    );
    assert.deepStrictEqual(
      sectionCompletions('tp/sys', kernel).map((c) => c.label),
      ['tp/syscalls/sys_enter_read'],
    );
    assert.deepStrictEqual(
      sectionCompletions('tp_btf/', kernel).map((c) => c.label),
      ['tp_btf/sched_switch'],
    );
    assert.deepStrictEqual(
      sectionCompletions('fentry/do_', kernel).map((c) => c.label),
      ['fentry/do_sys_openat2'],
    );
    assert.deepStrictEqual(
      sectionCompletions('cgroup/conn', kernel).map((c) => c.label),
      ['cgroup/connect4', 'cgroup/connect6'],
    );
  });
});

/** A BTF blob with: INT, FUNC "do_thing", TYPEDEF "btf_trace_sched_switch", STRUCT with 2 members, FUNC "other". */
function tinyBtf(): Buffer {
  const strings = ['', 'int', 'do_thing', 'btf_trace_sched_switch', 's', 'a', 'b', 'other'];
  const strBuf = Buffer.from(strings.join('\0') + '\0', 'latin1');
  const off = (name: string) => strBuf.indexOf(Buffer.from(`\0${name}\0`, 'latin1')) + 1;
  const words: number[] = [];
  const type = (name: number, kind: number, vlen: number, sizeOrType: number, ...extra: number[]) =>
    words.push(name, (kind << 24) | vlen, sizeOrType, ...extra);
  type(off('int'), 1, 0, 4, 32);
  type(off('do_thing'), 12, 0, 1);
  type(off('btf_trace_sched_switch'), 8, 0, 1);
  type(off('s'), 4, 2, 8, off('a'), 1, 0, off('b'), 1, 32);
  type(off('other'), 12, 0, 1);
  const types = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0);
  hdr.writeUInt8(1, 2);
  hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8);
  hdr.writeUInt32LE(types.length, 12);
  hdr.writeUInt32LE(types.length, 16);
  hdr.writeUInt32LE(strBuf.length, 20);
  return Buffer.concat([hdr, types, strBuf]);
}

describe('language server: BTF names', () => {
  it('reads functions, raw tracepoints and struct names, stepping over members', () => {
    assert.deepStrictEqual(parseBtfNames(tinyBtf()), {
      functions: ['do_thing', 'other'],
      rawTracepoints: ['sched_switch'],
      structs: ['s'],
    });
  });
  it('refuses what is not BTF', () => {
    assert.throws(() => parseBtfNames(Buffer.alloc(64)), /not a little-endian BTF blob/);
  });
});

describe('language server: lenses and text', () => {
  const source = [
    'struct { __uint(type, BPF_MAP_TYPE_HASH); } m SEC(".maps");',
    'SEC("xdp")',
    'int pass(struct xdp_md *ctx)',
    '{ return 2; }',
    'SEC("tracepoint/sched/sched_process_fork") static __always_inline int on_fork(void *ctx) { return 0; }',
    'char LICENSE[] SEC("license") = "GPL";',
  ].join('\n');

  it('finds SEC functions and skips maps and the license', () => {
    assert.deepStrictEqual(findSecFunctions(source), [
      { section: 'xdp', name: 'pass', line: 1 },
      { section: 'tracepoint/sched/sched_process_fork', name: 'on_fork', line: 4 },
    ]);
  });

  it('says verified with statistics, rejected with the message, and run counts when loaded', () => {
    const lenses = lensTexts(
      findSecFunctions(source),
      [
        {
          program: 'pass',
          section: 'xdp',
          file: '/src/a.bpf.c',
          line: 2,
          status: 'verified',
          stats: { insnsProcessed: 2, totalStates: 0, peakStates: 0, stackDepth: [0], verificationTimeUsec: 11 },
        },
        {
          program: 'on_fork',
          section: 'tp',
          file: '/src/a.bpf.c',
          line: 5,
          status: 'rejected',
          message: "R0 invalid mem access 'map_value_or_null'\nmore",
          log: '',
        },
      ],
      [{ program: 'pass', id: 42, runCount: 4, runTimeNs: 400 }],
    );
    assert.deepStrictEqual(
      lenses.map((l) => [l.line, l.title]),
      [
        [1, '$(pass) verified · 2 insns processed · 0 states (peak 0) · stack 0 B · 11 µs'],
        [1, '$(pulse) loaded (id 42): ran 4 times · avg 100 ns'],
        [4, "$(error) rejected by the verifier: R0 invalid mem access 'map_value_or_null'"],
      ],
    );
  });

  it('finds the word under the cursor and the argument being typed', () => {
    assert.equal(wordAt('\tcount = bpf_map_lookup_elem(&m, &k);', 15), 'bpf_map_lookup_elem');
    assert.equal(wordAt('a + b', 2), undefined);
    assert.deepStrictEqual(activeParameter('x = bpf_map_update_elem(&m, &k, f(a, b), '), {
      name: 'bpf_map_update_elem',
      index: 3,
    });
    assert.deepStrictEqual(activeParameter('bpf_printk("a, b (", '), { name: 'bpf_printk', index: 1 });
    assert.equal(activeParameter('f(a); g'), undefined);
  });
});
