// Maps defined the way libbpf before 1.0 wanted them, `struct bpf_map_def SEC("maps") name = {...}`,
// which libbpf 1.0 removed (https://github.com/libbpf/libbpf/wiki/Libbpf:-the-road-to-v1.0, "BPF map
// definitions"): found in source text, and rewritten as BTF-defined maps in SEC(".maps"). Pure; run by the language server.

export interface LegacyMap {
  name: string;
  /** 0-based line and column where the definition starts (`struct`) and ends (after its `;`). */
  start: { line: number; character: number };
  end: { line: number; character: number };
  /** The BTF-defined replacement, when every field could be read. */
  replacement?: string;
}

/** Map types whose keys and values libbpf creates without BTF: their sizes stay sizes. */
const SIZES_ONLY =
  /^BPF_MAP_TYPE_(PERF_EVENT_ARRAY|CGROUP_ARRAY|STACK_TRACE|ARRAY_OF_MAPS|HASH_OF_MAPS|PROG_ARRAY|DEVMAP|DEVMAP_HASH|CPUMAP|XSKMAP|SOCKMAP|SOCKHASH|REUSEPORT_SOCKARRAY|QUEUE|STACK|RINGBUF)$/;

const FIELDS: Record<string, string> = {
  type: 'type',
  key_size: 'key_size',
  value_size: 'value_size',
  max_entries: 'max_entries',
  map_flags: 'map_flags',
  numa_node: 'numa_node',
};

function position(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** `sizeof(T)` -> T when T reads as a type name (a word or `struct x`), else undefined. */
function sizeofType(expr: string): string | undefined {
  const m =
    /^sizeof\s*\(\s*((?:struct\s+|union\s+|enum\s+|unsigned\s+|signed\s+)?[A-Za-z_]\w*(?:\s+(?:int|long|char))?)\s*\)$/.exec(
      expr.trim(),
    );
  return m ? m[1].replace(/\s+/g, ' ') : undefined;
}

function rewrite(name: string, body: string, indent: string): string | undefined {
  const values: Record<string, string> = {};
  // Designated initializers only (.field = value); values may hold parentheses and operators, not commas
  // outside parentheses.
  let depth = 0;
  let current = '';
  const parts: string[] = [];
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const part of parts.map((p) => p.replace(/\/\*.*?\*\/|\/\/[^\n]*/g, '').trim()).filter(Boolean)) {
    const m = /^\.(\w+)\s*=\s*([\s\S]+)$/.exec(part);
    if (!m || !(m[1] in FIELDS)) return undefined;
    values[m[1]] = m[2].trim().replace(/\s+/g, ' ');
  }
  if (!values.type) return undefined;
  const lines = [`${indent}__uint(type, ${values.type});`];
  const typed = !SIZES_ONLY.test(values.type);
  for (const [field, kind] of [
    ['key_size', 'key'],
    ['value_size', 'value'],
  ] as const) {
    const size = values[field];
    if (size === undefined) continue;
    const type = typed ? sizeofType(size) : undefined;
    lines.push(type ? `${indent}__type(${kind}, ${type});` : `${indent}__uint(${field}, ${size});`);
  }
  for (const field of ['max_entries', 'map_flags', 'numa_node']) {
    if (values[field] !== undefined) lines.push(`${indent}__uint(${field}, ${values[field]});`);
  }
  return `struct {\n${lines.join('\n')}\n} ${name} SEC(".maps");`;
}

export function findLegacyMaps(text: string): LegacyMap[] {
  const found: LegacyMap[] = [];
  const pattern =
    /struct\s+bpf_map_def\s+(?:SEC\(\s*"maps"\s*\)\s+([A-Za-z_]\w*)|([A-Za-z_]\w*)\s+SEC\(\s*"maps"\s*\))\s*=\s*\{([\s\S]*?)\}\s*;/g;
  for (const m of text.matchAll(pattern)) {
    const name = m[1] ?? m[2];
    const indent = /\n([ \t]+)\./.exec(m[3])?.[1] ?? '\t';
    found.push({
      name,
      start: position(text, m.index),
      end: position(text, m.index + m[0].length),
      replacement: rewrite(name, m[3], indent),
    });
  }
  return found;
}

/** Applies every rewrite that could be made (the quick fix, and what tests check the result of). */
export function rewriteLegacyMaps(text: string): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) =>
    lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  let out = text;
  for (const map of findLegacyMaps(text).reverse()) {
    if (map.replacement === undefined) continue;
    out = out.slice(0, offset(map.start)) + map.replacement + out.slice(offset(map.end));
  }
  return out;
}

/** The diagnostic's words. */
export function legacyMapMessage(name: string): string {
  return (
    `libbpf 1.0 removed \`struct bpf_map_def SEC("maps")\` map definitions: define \`${name}\` as a ` +
    `BTF-defined map in SEC(".maps") (__uint(type, ...), __type(key, ...), ...)`
  );
}
