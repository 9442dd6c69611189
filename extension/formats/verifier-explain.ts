// Says in a sentence or two why the verifier refused a program, for the rejections users meet most, and
// which kind of source fix answers it. Matched on the kernel's own messages (the ones the fixtures under
// test/unit/fixtures/verifier-logs/ captured from Linux 6.18, plus older spellings), and on Linux 7.3's
// report where the message alone is not enough. Pure; run by the host and the debug adapter.
import type { DiagnosticReport } from './verifier-report-7x';

/** The edit that answers a rejection; quick fixes are keyed on it. */
export type FixKind =
  /** `if (!p) return 0;` after the lookup, before the first use. */
  | 'null-check'
  /** `if ((void *)(hdr + 1) > data_end) return ...;` before the read, for the bytes read. */
  | 'packet-bounds-check'
  /** A lower and upper bound on the index matching the object's size. */
  | 'bound-index'
  /** Return a value inside the range the program type allows. */
  | 'return-value'
  /** A GPL-compatible license, or a helper that is not GPL-only. */
  | 'gpl-license'
  /** A helper this program type may call, or a program type that may call this one. */
  | 'allowed-helper'
  /** Read kernel memory with BPF_CORE_READ / bpf_probe_read_kernel. */
  | 'core-read'
  /** Fewer paths or instructions: bound the loop, split the program, use bpf_loop. */
  | 'reduce-complexity'
  /** Make the loop's exit depend on something that changes on every pass. */
  | 'bound-loop';

export interface Explanation {
  /** Which rule matched: "null-deref", "packet-bounds", ... */
  rule: string;
  fix: FixKind;
  /** A few words for a title: "Map value used without a NULL check". */
  title: string;
  /** One or two sentences on why the verifier refuses it. */
  text: string;
  /** The register the message names, e.g. 0 for R0. */
  register?: number;
  /** Values read from the message: helper, type, offset, size, range, ... */
  details: Record<string, string | number>;
}

export interface ExplanationRule {
  id: string;
  fix: FixKind;
  title: string;
  patterns: RegExp[];
  explain(m: RegExpExecArray, message: string): Pick<Explanation, 'text'> & Partial<Explanation>;
}

const reg = (s: string | undefined) => (s === undefined ? undefined : Number(s));

/** The rules, most specific first. */
export const explanationRules: readonly ExplanationRule[] = [
  {
    id: 'null-deref',
    fix: 'null-check',
    title: 'Pointer used without a NULL check',
    patterns: [/R(\d+) invalid mem access '(\w*or_null\w*)'/],
    explain: (m) => ({
      register: reg(m[1]),
      details: { type: m[2] },
      text:
        `R${m[1]} is ${m[2]}: the call that produced it (bpf_map_lookup_elem and the like) returns NULL when there is nothing to return, ` +
        'and the verifier will not let the program dereference a pointer it has not seen compared with NULL on this path.',
    }),
  },
  {
    id: 'packet-bounds',
    fix: 'packet-bounds-check',
    title: 'Packet read without a data_end check',
    patterns: [
      /invalid access to packet, off=(-?\d+) size=(\d+), R(\d+)\(id=\d+,off=(-?\d+),r=(\d+)\)/,
      /R(\d+) offset is outside of the packet/,
    ],
    explain: (m, message) => {
      const full = /invalid access to packet, off=(-?\d+) size=(\d+), R(\d+)\(id=\d+,off=(-?\d+),r=(\d+)\)/.exec(
        message,
      );
      const details: Record<string, number> = {};
      if (full)
        Object.assign(details, { offset: Number(full[1]), size: Number(full[2]), provenBytes: Number(full[5]) });
      const register = full ? Number(full[3]) : reg(m[1]);
      const first = full ? Number(full[1]) : 0;
      const last = full ? first + Number(full[2]) - 1 : 0;
      const what = !full
        ? 'packet bytes'
        : first === last
          ? `byte ${first} of the packet`
          : `bytes ${first}..${last} of the packet`;
      return {
        register,
        details,
        text:
          `The program reads ${what} but, on this path, has not compared the packet pointer plus the bytes it reads against data_end, ` +
          'so the verifier cannot rule out a read past the end of the packet.',
      };
    },
  },
  {
    id: 'unbounded-index',
    fix: 'bound-index',
    title: 'Index not bounded to the object',
    patterns: [
      /R(\d+) unbounded memory access/,
      /R(\d+) (min|max) value is outside of the allowed memory range/,
      /R(\d+) min value is negative/,
      /math between (\w+) pointer and register with unbounded min value is not allowed/,
      /invalid (?:unbounded )?variable-offset (?:indirect access|read|write) (?:from|to) stack R?(\d*)/,
    ],
    explain: (m, message) => {
      const access = /invalid access to (map value|memory), (?:value_size|mem_size)=(\d+) off=(-?\d+) size=(\d+)/.exec(
        message,
      );
      const details: Record<string, string | number> = {};
      if (access)
        Object.assign(details, {
          object: access[1],
          objectSize: Number(access[2]),
          offset: Number(access[3]),
          size: Number(access[4]),
        });
      const side =
        /(min|max) value is outside/.exec(message)?.[1] ??
        (/min value is negative|unbounded min value/.test(message) ? 'min' : undefined);
      if (side) details.side = side;
      const why =
        side === 'max'
          ? 'the index can be larger than the object, so the access may run past its end'
          : side === 'min'
            ? 'the index can be negative, so the access may land before the object'
            : 'the index has no bounds the verifier can see, so the access may fall anywhere';
      return {
        register: m[1] && /^\d+$/.test(m[1]) ? Number(m[1]) : undefined,
        details,
        text:
          `An index is added to a pointer into a map value or the stack, and ${why}; ` +
          'the verifier needs a lower and an upper bound on the index, checked before the access, that keep it inside the object.',
      };
    },
  },
  {
    id: 'return-range',
    fix: 'return-value',
    title: 'Return value out of range',
    patterns: [
      /At program exit the register R0 has (.*?) should have been in \[(-?\d+), (-?\d+)\]/,
      /At program exit the register R0 has (.*?) should have been in \((0x[0-9a-f]+); (0x[0-9a-f]+)\)/,
    ],
    explain: (m) => {
      const min = Number(m[2]);
      const max = Number(m[3]);
      // 6.x prints the range it has (`smin=2 smax=2`), older kernels a tnum (`value (0x2; 0x0)`).
      const range = /smin=(-?\w+) smax=(-?\w+)/.exec(m[1]);
      const has = range
        ? range[1] === range[2]
          ? `${Number(range[1])}`
          : `anywhere in [${Number(range[1])}, ${Number(range[2])}]`
        : m[1];
      return {
        register: 0,
        details: { has: m[1], min, max },
        text:
          `This program type's return value means something to the kernel, so the verifier checks it at every exit: R0 must be within [${min}, ${max}], ` +
          `and on this path it can be ${has}.`,
      };
    },
  },
  {
    id: 'gpl-only',
    fix: 'gpl-license',
    title: 'GPL-only helper in a non-GPL program',
    patterns: [/cannot call GPL-restricted function from non-GPL compatible program/],
    explain: () => ({
      details: {},
      text:
        'The helper called here is exported to GPL-compatible programs only, and the license section of this object ' +
        '(char LICENSE[] SEC("license")) does not name a GPL-compatible license.',
    }),
  },
  {
    id: 'helper-not-allowed',
    fix: 'allowed-helper',
    title: 'Helper not available to this program type',
    patterns: [/program of this type cannot use helper (\w+)#(\d+)/, /unknown func (\w+)#(\d+)/],
    explain: (m) => ({
      details: { helper: m[1], helperId: Number(m[2]) },
      text: `${m[1]} is not offered to this program type: each program type has its own set of helpers, and the verifier refuses calls outside it.`,
    }),
  },
  {
    id: 'scalar-deref',
    fix: 'core-read',
    title: 'Kernel pointer dereferenced directly',
    patterns: [/R(\d+) invalid mem access '(scalar|inv)'/],
    explain: (m) => ({
      register: reg(m[1]),
      details: { type: m[2] },
      text:
        `R${m[1]} holds a plain number here, not a pointer the verifier can check, so it cannot be dereferenced; a program without BTF access ` +
        'reads kernel memory with BPF_CORE_READ or bpf_probe_read_kernel (fentry/tp_btf programs get typed pointers instead).',
    }),
  },
  {
    id: 'too-large',
    fix: 'reduce-complexity',
    title: 'Too many instructions to verify',
    patterns: [/BPF program is too large\. Processed (\d+) insn/, /The sequence of (\d+) jumps is too complex/],
    explain: (m, message) => ({
      details: { count: Number(m[1]) },
      text: /jumps/.test(message)
        ? `The verifier followed a path of ${m[1]} jumps without finishing it; some loop or chain of branches gives it too many paths to follow.`
        : `The verifier processed ${m[1]} instructions, its limit, without finishing: some loop or branch multiplies the paths it has to walk (the line heat table shows where).`,
    }),
  },
  {
    id: 'infinite-loop',
    fix: 'bound-loop',
    title: 'Loop that may never end',
    patterns: [/infinite loop detected at insn (\d+)/],
    explain: (m) => ({
      details: { insn: Number(m[1]) },
      text: `The verifier came back to instruction ${m[1]} in exactly the state it had left it in, so as far as it can tell this loop runs forever.`,
    }),
  },
];

/** Explains a rejection message (and 7.3 report, when there is one); undefined when no rule knows it. */
export function explainRejection(message: string, report?: DiagnosticReport): Explanation | undefined {
  for (const rule of explanationRules) {
    for (const pattern of rule.patterns) {
      const m = pattern.exec(message);
      if (!m) continue;
      const found = rule.explain(m, message);
      return { rule: rule.id, fix: rule.fix, title: rule.title, details: {}, ...found };
    }
  }
  return report ? explainReport(report) : undefined;
}

/** Reads 7.3's report when the message itself did not match (a message worded differently on new kernels). */
function explainReport(report: DiagnosticReport): Explanation | undefined {
  const register = /\bR(\d+)\b/.exec(report.reason);
  if (report.problem === 'Invalid dereference') {
    const n = register ? Number(register[1]) : undefined;
    if (/may be NULL/.test(report.reason)) {
      return {
        rule: 'null-deref',
        fix: 'null-check',
        title: 'Pointer used without a NULL check',
        register: n,
        details: {},
        text: report.reason,
      };
    }
    if (/integer scalar here, not a pointer/.test(report.reason)) {
      return {
        rule: 'scalar-deref',
        fix: 'core-read',
        title: 'Kernel pointer dereferenced directly',
        register: n,
        details: {},
        text: report.reason,
      };
    }
  }
  return undefined;
}
