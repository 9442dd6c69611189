// Reads the kernel's own documentation of BPF helper functions from the installed UAPI linux/bpf.h (the
// comment block that scripts/bpf_doc.py turns into bpf-helpers(7)) and the helper ids from
// __BPF_FUNC_MAPPER. Pure parsing plus one file read: the text is never copied into this repository.
import * as fs from 'fs';

export const UAPI_BPF_H = '/usr/include/linux/bpf.h';

export interface HelperDoc {
  name: string;
  /** The C prototype as the header prints it: "void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)". */
  signature: string;
  returnType: string;
  /** Each parameter as declared: "struct bpf_map *map". */
  params: string[];
  /** Markdown, converted from the header's RST-ish markup. */
  description: string;
  returns: string;
  /** BPF_FUNC_* number, when __BPF_FUNC_MAPPER lists it. */
  id?: number;
}

const prototype = /^(.*?)\b(bpf_[a-z0-9_]+)\((.*)\)\s*$/;

/** The header's **bold**, *italic* and `\ ` joiners, as Markdown. */
function rstToMarkdown(text: string): string {
  return text
    .replace(/\\ /g, '')
    .replace(/\*\*(.+?)\*\*/g, '**$1**')
    .replace(/(^|[^*])\*([^*\s][^*]*?)\*(?!\*)/g, '$1_$2_');
}

/** Removes the common indentation of a block of lines (tabs count as one level each). */
function dedent(lines: string[]): string {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^\t*/.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines
    .map((l) => l.slice(cut).replace(/^\t+/, (tabs) => '    '.repeat(tabs.length)))
    .join('\n')
    .trim();
}

/** Splits a parameter list at top-level commas. */
function splitParams(list: string): string[] {
  const trimmed = list.trim();
  if (trimmed === '' || trimmed === 'void') return [];
  const params: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of trimmed) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      params.push(current.trim());
      current = '';
    } else current += ch;
  }
  params.push(current.trim());
  return params;
}

/** Helper ids in the order __BPF_FUNC_MAPPER lists them (FN(name) or FN(name, id, ...)). */
export function parseHelperIds(header: string): Map<string, number> {
  const ids = new Map<string, number>();
  const start = header.indexOf('#define __BPF_FUNC_MAPPER');
  if (start < 0) return ids;
  const end = header.indexOf('\n\n', start);
  let next = 0;
  for (const m of header.slice(start, end < 0 ? undefined : end).matchAll(/FN\(\s*([a-z0-9_]+)\s*(?:,\s*(\d+))?/g)) {
    const id = m[2] !== undefined ? Number(m[2]) : next;
    ids.set(`bpf_${m[1]}`, id);
    next = id + 1;
  }
  return ids;
}

/** Parses the helper descriptions between "Start of BPF helper function descriptions:" and the comment's end. */
export function parseHelperDocs(header: string): Map<string, HelperDoc> {
  const docs = new Map<string, HelperDoc>();
  const start = header.indexOf('Start of BPF helper function descriptions:');
  if (start < 0) return docs;
  const end = header.indexOf('*/', start);
  const lines = header
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .slice(1)
    .map((l) => l.replace(/^ \*( |$)/, ''));
  const ids = parseHelperIds(header);

  let current:
    | { doc: HelperDoc; section: 'none' | 'description' | 'return'; description: string[]; returns: string[] }
    | undefined;
  const finish = () => {
    if (!current) return;
    current.doc.description = rstToMarkdown(dedent(current.description));
    current.doc.returns = rstToMarkdown(dedent(current.returns));
    docs.set(current.doc.name, current.doc);
    current = undefined;
  };
  for (const line of lines) {
    // Prototypes start at column 0; everything else in the block is indented with tabs.
    const proto = /^\S/.test(line) ? prototype.exec(line) : null;
    if (proto) {
      finish();
      const name = proto[2];
      current = {
        doc: {
          name,
          signature: line.trim(),
          returnType: proto[1].trim(),
          params: splitParams(proto[3]),
          description: '',
          returns: '',
          id: ids.get(name),
        },
        section: 'none',
        description: [],
        returns: [],
      };
      continue;
    }
    if (!current) continue;
    if (/^\tDescription\s*$/.test(line)) current.section = 'description';
    else if (/^\tReturn\s*$/.test(line)) current.section = 'return';
    else if (current.section === 'description') current.description.push(line);
    else if (current.section === 'return') current.returns.push(line);
  }
  finish();
  return docs;
}

let cached: { path: string; docs: Map<string, HelperDoc> } | undefined;

/** The helper docs of the installed UAPI header, read once; empty when the header is not installed. */
export function installedHelperDocs(headerPath = UAPI_BPF_H): Map<string, HelperDoc> {
  if (cached?.path === headerPath) return cached.docs;
  let docs = new Map<string, HelperDoc>();
  try {
    docs = parseHelperDocs(fs.readFileSync(headerPath, 'utf8'));
  } catch {
    // No linux-libc-dev: hover has nothing to say, which the server reports once in its log.
  }
  cached = { path: headerPath, docs };
  return docs;
}

/** Hover text: the prototype as C, then the kernel's description and return value. */
export function helperHoverMarkdown(doc: HelperDoc): string {
  const id = doc.id !== undefined ? ` (BPF_FUNC_${doc.name.slice(4)} = ${doc.id})` : '';
  return [
    '```c',
    doc.signature,
    '```',
    `_Kernel documentation from linux/bpf.h${id}_`,
    '',
    doc.description,
    '',
    '**Return**',
    '',
    doc.returns,
  ].join('\n');
}
