// Where things are in BPF C source text: the SEC(...) line of each program and the definition line of
// each map, so that load failures land on the line they concern. Pure (text in, lines out).

export interface SecFunction {
  section: string;
  /** The C function name, which is the program's name. */
  name: string;
  /** 0-based line of the SEC( annotation. */
  line: number;
}

/** Finds `SEC("...")` followed by a function definition (same line or the next few). */
export function findSecFunctions(text: string): SecFunction[] {
  const found: SecFunction[] = [];
  const pattern =
    /\bSEC\(\s*"([^"]+)"\s*\)\s*(?:\/\/[^\n]*\n\s*)*(?:static\s+|__always_inline\s+|inline\s+)*[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\(/g;
  for (const m of text.matchAll(pattern)) {
    if (m[1].startsWith('.') || m[1] === 'license' || m[1] === 'version' || m[1] === 'maps') continue;
    const line = text.slice(0, m.index).split('\n').length - 1;
    found.push({ section: m[1], name: m[2], line });
  }
  return found;
}

/** 1-based line of a program's SEC(...): by its function name, else the first SEC of its section, else 1. */
export function programLine(text: string, program: string, section: string): number {
  const fn = findSecFunctions(text).find((f) => f.name === program);
  if (fn) return fn.line + 1;
  const index = text.split('\n').findIndex((l) => l.includes(`SEC("${section}")`));
  return index >= 0 ? index + 1 : 1;
}

/**
 * 1-based line that defines a map: `} NAME SEC(".maps")` for a BTF-defined map (the line naming it),
 * `struct bpf_map_def SEC("maps") NAME` for a legacy one; 1 when the source does not show it (a header).
 */
export function mapDefinitionLine(text: string, map: string): number {
  const lines = text.split('\n');
  const name = map.replace(/[^\w]/g, '');
  const patterns = [
    new RegExp(`\\b${name}\\s+SEC\\(\\s*"\\.maps"\\s*\\)`),
    new RegExp(`SEC\\(\\s*"maps"\\s*\\)\\s*${name}\\b`),
    new RegExp(`\\b${name}\\s+SEC\\(\\s*"maps"\\s*\\)`),
  ];
  for (const pattern of patterns) {
    const index = lines.findIndex((l) => pattern.test(l));
    if (index >= 0) return index + 1;
  }
  return 1;
}

/**
 * 1-based line where a program's function uses `word` (a field name), searching from its SEC line to the
 * next SEC: clang often puts a CO-RE relocation at the function's first instruction, while the user
 * wants the line that reads the field.
 */
export function lineInProgram(text: string, sectionLine: number, word: string): number | undefined {
  const lines = text.split('\n');
  const pattern = new RegExp(`(->|\\.|,\\s*)\\s*${word.replace(/[^\w]/g, '')}\\b`);
  for (let i = sectionLine; i < lines.length; i++) {
    if (i > sectionLine && /\bSEC\(/.test(lines[i])) break;
    if (pattern.test(lines[i].replace(/\/\/.*$/, ''))) return i + 1;
  }
  return undefined;
}
