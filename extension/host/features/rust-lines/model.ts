// The CodeLenses of a Rust file of an aya crate, over each `#[xdp]`/`#[tracepoint]`... function: the
// verifier's verdict on the crate's built object (Show Verifier Log), and while eBPF Studio holds a load
// of that object, its run statistics and its instructions (Show Instructions). No vscode import.
import { findRustPrograms } from '../../../formats/rust-source';
import { lensTexts } from '../../../language-server/lenses';
import type { ProgramRunStats } from '../../../language-server/lsp-ext';
import type { ProgramVerdict } from '../../../toolchain/verify';

export interface RustLens {
  /** 0-based line of the program's attribute. */
  line: number;
  title: string;
  command: 'ebpf.showVerifierLog' | 'ebpf.showInstructions';
  /** showVerifierLog: [uri, program]; showInstructions: [progId]. */
  args: (string | number)[];
}

export function rustLenses(
  text: string,
  uri: string,
  verdicts: ProgramVerdict[],
  runStats: ProgramRunStats[],
): RustLens[] {
  const programs = findRustPrograms(text);
  const functions = programs.map((p) => ({ section: p.kind, name: p.name, line: p.line }));
  const lenses: RustLens[] = lensTexts(functions, verdicts, runStats)
    // A verdict whose function this text does not show belongs to another file of the crate.
    .filter((l) => programs.some((p) => p.name === l.program))
    .map((l) => ({ line: l.line, title: l.title, command: 'ebpf.showVerifierLog', args: [uri, l.program] }));
  for (const stats of runStats) {
    const program = programs.find((p) => p.name === stats.program);
    if (!program) continue;
    lenses.push({
      line: program.line,
      title: `$(list-ordered) instructions (id ${stats.id})`,
      command: 'ebpf.showInstructions',
      args: [stats.id],
    });
  }
  return lenses;
}
