// Small pure text helpers of the language server: the identifier under the cursor and the call the cursor
// is inside (for signature help).

/** The C identifier that contains `character` on `line`, if any. */
export function wordAt(line: string, character: number): string | undefined {
  const isWord = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9_]/.test(ch);
  let start = character;
  while (start > 0 && isWord(line[start - 1])) start--;
  let end = character;
  while (isWord(line[end])) end++;
  const word = line.slice(start, end);
  return /^[A-Za-z_]\w*$/.test(word) ? word : undefined;
}

/**
 * The innermost unclosed call before the cursor and which argument the cursor is in, counting commas at
 * that call's depth; strings and character literals are skipped.
 */
export function activeParameter(before: string): { name: string; index: number } | undefined {
  let depth = 0;
  let commas = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    const ch = before[i];
    if (ch === '"' || ch === "'") {
      const open = before.lastIndexOf(ch, i - 1);
      if (open < 0) return undefined;
      i = open;
      continue;
    }
    if (ch === ')' || ch === ']') depth++;
    else if (ch === '(' || ch === '[') {
      if (depth === 0) {
        if (ch === '[') return undefined;
        const name = /([A-Za-z_]\w*)\s*$/.exec(before.slice(0, i))?.[1];
        return name ? { name, index: commas } : undefined;
      }
      depth--;
    } else if (ch === ',' && depth === 0) commas++;
    else if (ch === ';' || ch === '{' || ch === '}') return undefined;
  }
  return undefined;
}
