// Pure part of eBPF: Configure clangd for BPF Sources: merges entries for BPF sources into an existing
// compile_commands.json, replacing only the entries of those files. No vscode import.

export interface CompileCommand {
  directory: string;
  file: string;
  arguments: string[];
}

/** The new file's text: entries of other files kept in order, ours replaced or appended. */
export function mergeCompileCommands(existing: string | undefined, ours: CompileCommand[]): string {
  let entries: CompileCommand[] = [];
  if (existing !== undefined && existing.trim() !== '') {
    const parsed: unknown = JSON.parse(existing);
    if (!Array.isArray(parsed)) throw new Error('compile_commands.json is not a JSON array; leaving it alone.');
    entries = parsed as CompileCommand[];
  }
  const replaced = new Set(ours.map((e) => e.file));
  return `${JSON.stringify([...entries.filter((e) => !replaced.has(e.file)), ...ours], null, 2)}\n`;
}
