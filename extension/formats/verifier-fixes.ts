// Source edits that answer the common verifier rejections (the quick fixes on the verifier's diagnostic):
// a NULL check after a map lookup, a data_end check for the bytes a packet read touches, a bound on an
// index matching the array, a return value inside the program type's range, a GPL license, a program
// type that may call the helper, and BPF_CORE_READ / bpf_probe_read_kernel for a kernel pointer. Each
// works on the source text and the verifier's failing line; the editor re-verifies after applying it, so
// a fix that reads the code wrong is caught at once. Pure: no I/O.
import type { Explanation } from './verifier-explain';

/** Replace lines [line, line + deleteCount) (1-based) with `text` lines; deleteCount 0 inserts before `line`. */
export interface LineEdit {
  line: number;
  deleteCount: number;
  lines: string[];
}

export interface SourceFix {
  title: string;
  edits: LineEdit[];
}

export interface FixInput {
  /** The whole source file. */
  text: string;
  /** The failing C line (1-based), from the log's line info. */
  line: number;
  explanation: Explanation;
}

/** Program types that may call a helper, for the helpers people reach for from the wrong program. */
export const helperProgramTypes: { prefix: RegExp; types: string[]; section: string; name: string }[] = [
  { prefix: /^bpf_xdp_/, types: ['xdp'], section: 'xdp', name: 'an XDP program' },
  {
    prefix: /^bpf_skb_(change|adjust|vlan|set_tunnel|get_tunnel|under_cgroup|ecn)/,
    types: ['tc (sched_cls)', 'sched_act'],
    section: 'tc',
    name: 'a TC program',
  },
  {
    prefix: /^bpf_sock_(ops|hash|map)_/,
    types: ['sockops', 'sk_msg', 'sk_skb'],
    section: 'sockops',
    name: 'a sockops program',
  },
  { prefix: /^bpf_msg_/, types: ['sk_msg'], section: 'sk_msg', name: 'an sk_msg program' },
  { prefix: /^bpf_sysctl_/, types: ['cgroup/sysctl'], section: 'cgroup/sysctl', name: 'a cgroup sysctl program' },
  {
    prefix: /^bpf_lwt_/,
    types: ['lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local'],
    section: 'lwt_xmit',
    name: 'an LWT program',
  },
];

/** The program types that may call `helper`, when it is one of the known ones. */
export function allowedProgramTypes(helper: string): string[] | undefined {
  return helperProgramTypes.find((h) => h.prefix.test(helper))?.types;
}

/** The explanation's sentences, and for a helper of the wrong program type, the types that may call it. */
export function explanationText(explanation: Explanation): string {
  const types =
    explanation.fix === 'allowed-helper' ? allowedProgramTypes(String(explanation.details.helper ?? '')) : undefined;
  return types
    ? `${explanation.text} Program types that may call ${String(explanation.details.helper)}: ${types.join(', ')}.`
    : explanation.text;
}

const indentOf = (line: string) => /^\s*/.exec(line)![0];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The function around a line: the index of its header line (column-0 definition) and the SEC above it. */
function enclosingFunction(lines: string[], index: number): { header: number; section?: string; end: number } {
  let header = 0;
  for (let i = index; i >= 0; i--) {
    if (/^(?!SEC|#|\/|\s)[A-Za-z_][\w\s*]*?\b[A-Za-z_]\w*\s*\([^;]*$/.test(lines[i])) {
      header = i;
      break;
    }
  }
  let section: string | undefined;
  for (let i = header; i >= Math.max(0, header - 2); i--) {
    const m = /SEC\("([^"]+)"\)/.exec(lines[i]);
    if (m) section = m[1];
  }
  let end = lines.length - 1;
  for (let i = index; i < lines.length; i++)
    if (/^\}/.test(lines[i])) {
      end = i;
      break;
    }
  return { header, section, end };
}

/** A value to return early that the program type accepts and that lets the packet or event through. */
function earlyReturn(section: string | undefined): string {
  if (!section) return '0';
  if (/^xdp/.test(section)) return 'XDP_PASS';
  if (/^cgroup_skb|^cgroup\/(skb|sock|dev|sysctl|getsockopt|setsockopt)/.test(section)) return '1';
  return '0';
}

/** The statement at `index` guarded by `guard` lines: before it, or in a block when it is a braceless body. */
function guardStatement(lines: string[], index: number, guard: string[]): LineEdit {
  const statement = lines[index];
  const indent = indentOf(statement);
  let prev = index - 1;
  while (prev >= 0 && lines[prev].trim() === '') prev--;
  const header = prev >= 0 ? lines[prev].trim() : '';
  const braceless = /^(?:(?:\}\s*)?else\b.*|(?:if|for|while)\s*\(.*\))$/.test(header) && !/[;{]$/.test(header);
  if (!braceless) return { line: index + 1, deleteCount: 0, lines: guard.map((g) => indent + g) };
  // `if (x)\n\tstmt;` becomes `if (x) {\n\tguard\n\tstmt;\n}`, so the guard stays under the condition.
  const outer = indentOf(lines[prev]);
  return {
    line: prev + 1,
    deleteCount: index - prev + 1,
    lines: [`${lines[prev].replace(/\s*$/, '')} {`, ...guard.map((g) => indent + g), statement, `${outer}}`],
  };
}

function nullCheck(lines: string[], index: number): SourceFix | undefined {
  for (let i = index; i >= 0; i--) {
    const m = /(?:^|[\s*(])(\w+)\s*=\s*(?:\([^)]*\)\s*)?bpf_map_lookup(?:_percpu)?_elem\s*\(/.exec(lines[i]);
    if (!m) continue;
    const name = m[1];
    if (!new RegExp(`\\b${escape(name)}\\b`).test(lines[index]) && i !== index) return undefined;
    let end = i;
    while (end < lines.length - 1 && !/;\s*(\/[/*].*)?$/.test(lines[end])) end++;
    const indent = indentOf(lines[i]);
    const fn = enclosingFunction(lines, i);
    return {
      title: `Check ${name} against NULL after the lookup`,
      edits: [
        {
          line: end + 2,
          deleteCount: 0,
          lines: ['', `${indent}if (!${name})`, `${indent}\treturn ${earlyReturn(fn.section)};`],
        },
      ],
    };
  }
  return undefined;
}

function packetCheck(lines: string[], index: number, details: Explanation['details']): SourceFix | undefined {
  const fn = enclosingFunction(lines, index);
  const body = lines.slice(fn.header, index + 1);
  let data: { name: string; ctx: string; at: number } | undefined;
  let dataEnd: string | undefined;
  body.forEach((l, k) => {
    const d = /(\w+)\s*=\s*\(void\s*\*\)\s*\(long\)\s*(\w+)->data\s*;/.exec(l);
    if (d) data = { name: d[1], ctx: d[2], at: fn.header + k };
    const e = /(\w+)\s*=\s*\(void\s*\*\)\s*\(long\)\s*\w+->data_end\s*;/.exec(l);
    if (e) dataEnd = e[1];
  });
  if (!data) return undefined;
  const edits: LineEdit[] = [];
  const end = dataEnd ?? 'data_end';
  if (!dataEnd)
    edits.push({
      line: data.at + 2,
      deleteCount: 0,
      lines: [`${indentOf(lines[data.at])}void *data_end = (void *)(long)${data.ctx}->data_end;`],
    });
  // A header read through a typed pointer: prove the whole header is there, as the idiom goes.
  const typed = [...lines[index].matchAll(/\b(\w+)->/g)]
    .map((m) => m[1])
    .find((v) => body.some((l) => new RegExp(`struct\\s+\\w+\\s*\\*\\s*${escape(v)}\\s*=`).test(l)));
  const bytes = Number(details.offset ?? 0) + Number(details.size ?? 0);
  const condition = typed
    ? `(void *)(${typed} + 1) > ${end}`
    : bytes > 0
      ? `(void *)${data.name} + ${bytes} > ${end}`
      : undefined;
  if (!condition) return undefined;
  edits.push(guardStatement(lines, index, [`if (${condition})`, `\treturn ${earlyReturn(fn.section)};`]));
  return {
    title: typed
      ? `Check that all of *${typed} is inside the packet (data_end)`
      : `Check that ${bytes} bytes of the packet are there (data_end)`,
    edits,
  };
}

function boundIndex(lines: string[], index: number, details: Explanation['details']): SourceFix | undefined {
  const access = /(\w+)\s*\[\s*([A-Za-z_]\w*)\s*\]/.exec(lines[index]);
  if (!access) return undefined;
  const [, array, idx] = access;
  const text = lines.join('\n');
  const declared = new RegExp(`\\b${escape(array)}\\s*\\[\\s*(\\w+)\\s*\\]\\s*;`).exec(text);
  if (!declared) return undefined;
  const size = declared[1];
  const fn = enclosingFunction(lines, index);
  const typeLine = lines
    .slice(fn.header, index)
    .reverse()
    .find((l) => new RegExp(`^\\s*([\\w\\s]+?)\\s+${escape(idx)}\\s*(=|;)`).test(l));
  const type = typeLine ? new RegExp(`^\\s*([\\w\\s]+?)\\s+${escape(idx)}\\s*(=|;)`).exec(typeLine)![1] : 'int';
  const unsigned = /\b(unsigned|__u\d+|u\d+|size_t|uint\d+_t)\b/.test(type);
  const condition = unsigned ? `${idx} >= ${size}` : `${idx} < 0 || ${idx} >= ${size}`;
  void details;
  return {
    title: `Bound ${idx} to the ${size} elements of ${array}`,
    edits: [guardStatement(lines, index, [`if (${condition})`, `\treturn ${earlyReturn(fn.section)};`])],
  };
}

function returnValue(lines: string[], index: number, details: Explanation['details']): SourceFix | undefined {
  const min = Number(details.min);
  const max = Number(details.max);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return undefined;
  const fn = enclosingFunction(lines, Math.min(index, lines.length - 1));
  const edits: LineEdit[] = [];
  for (let i = fn.header; i <= fn.end; i++) {
    const m = /^(\s*)return\s+(.+?);(.*)$/.exec(lines[i]);
    if (!m) continue;
    const value = /^-?(0x[0-9a-f]+|\d+)$/i.test(m[2]) ? Number(m[2]) : undefined;
    if (value !== undefined) {
      if (value < min || value > max)
        edits.push({ line: i + 1, deleteCount: 1, lines: [`${m[1]}return ${value < min ? min : max};${m[3]}`] });
    } else if (min === 0 && max === 1) {
      edits.push({ line: i + 1, deleteCount: 1, lines: [`${m[1]}return !!(${m[2]});${m[3]}`] });
    }
  }
  if (edits.length === 0) return undefined;
  return { title: `Return only values in [${min}, ${max}]`, edits };
}

function gplLicense(lines: string[]): SourceFix {
  const at = lines.findIndex((l) => /SEC\(\s*"license"\s*\)/.test(l));
  if (at < 0)
    return {
      title: 'Add a GPL license section',
      edits: [{ line: lines.length + 1, deleteCount: 0, lines: ['', 'char LICENSE[] SEC("license") = "GPL";'] }],
    };
  return {
    title: 'License the program as "GPL" (GPL-only helpers need a GPL-compatible license)',
    edits: [{ line: at + 1, deleteCount: 1, lines: [lines[at].replace(/=\s*"[^"]*"/, '= "GPL"')] }],
  };
}

function allowedHelper(lines: string[], index: number, details: Explanation['details']): SourceFix | undefined {
  const helper = String(details.helper ?? '');
  const known = helperProgramTypes.find((h) => h.prefix.test(helper));
  if (!known) return undefined;
  const fn = enclosingFunction(lines, index);
  for (let i = fn.header; i >= Math.max(0, fn.header - 2); i--) {
    if (/SEC\("[^"]+"\)/.test(lines[i]))
      return {
        title: `Make it ${known.name} (SEC("${known.section}")): ${helper} is offered to ${known.types.join(', ')} only`,
        edits: [
          { line: i + 1, deleteCount: 1, lines: [lines[i].replace(/SEC\("[^"]+"\)/, `SEC("${known.section}")`)] },
        ],
      };
  }
  return undefined;
}

function coreRead(lines: string[], index: number): SourceFix | undefined {
  const line = lines[index];
  const chain = /\b([A-Za-z_]\w*)((?:->[A-Za-z_]\w*)+)/.exec(line);
  if (chain) {
    const fields = chain[2].split('->').filter(Boolean);
    const edits: LineEdit[] = [];
    if (!lines.some((l) => /#include\s*<bpf\/bpf_core_read\.h>/.test(l))) {
      const lastInclude = lines.reduce((at, l, i) => (/^#include\b/.test(l) ? i : at), -1);
      edits.push({ line: lastInclude + 2, deleteCount: 0, lines: ['#include <bpf/bpf_core_read.h>'] });
    }
    edits.push({
      line: index + 1,
      deleteCount: 1,
      lines: [line.replace(chain[0], `BPF_CORE_READ(${chain[1]}, ${fields.join(', ')})`)],
    });
    return { title: `Read ${chain[0]} with BPF_CORE_READ`, edits };
  }
  const element = /\b([A-Za-z_]\w*)\s*\[\s*([^\]]+?)\s*\]/.exec(line);
  if (element) {
    const value = `${element[1]}_${/^\d+$/.test(element[2]) ? element[2] : 'value'}`;
    const fn = enclosingFunction(lines, index);
    const declared = lines
      .slice(fn.header, index)
      .map((l) => new RegExp(`^\\s*([\\w\\s]+?)\\s*\\*\\s*${escape(element[1])}\\s*=`).exec(l))
      .find(Boolean);
    const type = declared?.[1] ?? 'long';
    const indent = indentOf(line);
    return {
      title: `Read ${element[0]} with bpf_probe_read_kernel`,
      edits: [
        {
          line: index + 1,
          deleteCount: 1,
          lines: [
            `${indent}${type} ${value} = 0;`,
            '',
            `${indent}bpf_probe_read_kernel(&${value}, sizeof(${value}), &${element[0]});`,
            line.replace(element[0], value),
          ],
        },
      ],
    };
  }
  return undefined;
}

/** The fix for a rejection at `line`, when the explanation's kind has one and the code reads as expected. */
export function proposeFix(input: FixInput): SourceFix | undefined {
  const lines = input.text.split('\n');
  const index = input.line - 1;
  if (index < 0 || index >= lines.length) return undefined;
  const d = input.explanation.details;
  switch (input.explanation.fix) {
    case 'null-check':
      return nullCheck(lines, index);
    case 'packet-bounds-check':
      return packetCheck(lines, index, d);
    case 'bound-index':
      return boundIndex(lines, index, d);
    case 'return-value':
      return returnValue(lines, index, d);
    case 'gpl-license':
      return gplLicense(lines);
    case 'allowed-helper':
      return allowedHelper(lines, index, d);
    case 'core-read':
      return coreRead(lines, index);
    default:
      return undefined;
  }
}

/** The source with a fix applied (edits from the bottom up, so line numbers hold). */
export function applyFix(text: string, fix: SourceFix): string {
  const lines = text.split('\n');
  for (const edit of [...fix.edits].sort((a, b) => b.line - a.line))
    lines.splice(edit.line - 1, edit.deleteCount, ...edit.lines);
  return lines.join('\n');
}
