// The verifier debug session's disassembly view: the walked instructions by index (an index stands for an
// address), with their C lines. Runs where the debug adapter runs.
import type { Source } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { VerifierTrace } from '../formats/verifier-trace-walk';

/** Instruction indexes stand for addresses: the disassembly view only needs them ordered. */
export function address(insn: number): string {
  return `0x${insn.toString(16)}`;
}

/** First step at each instruction index. */
export function firstSteps(trace: VerifierTrace): Map<number, number> {
  const index = new Map<number, number>();
  for (let i = 0; i < trace.length; i++) {
    const insn = trace.step(i).insn;
    if (!index.has(insn)) index.set(insn, i);
  }
  return index;
}

/** The instructions a disassemble request asks for; `sourceOf` names the source of a step's file. */
export function disassemble(
  trace: VerifierTrace,
  index: Map<number, number>,
  args: DebugProtocol.DisassembleArguments,
  sourceOf: (file: string | undefined) => Source | undefined,
): DebugProtocol.DisassembledInstruction[] {
  const max = Math.max(...index.keys());
  const base = Number(BigInt(args.memoryReference)) + (args.offset ?? 0) + (args.instructionOffset ?? 0);
  const instructions: DebugProtocol.DisassembledInstruction[] = [];
  let lastLine: number | undefined;
  for (let k = 0; k < args.instructionCount; k++) {
    const insn = base + k;
    if (insn < 0 || insn > max) {
      instructions.push({ address: address(Math.max(0, insn)), instruction: '', presentationHint: 'invalid' });
      continue;
    }
    const stepIndex = index.get(insn);
    if (stepIndex === undefined) {
      // Not walked: dead code, or the second half of a 16-byte ld_imm64.
      instructions.push({ address: address(insn), instruction: '(not walked by the verifier)' });
      continue;
    }
    const step = trace.step(stepIndex);
    const m = /^\(([0-9a-f]{2})\) (.*)$/.exec(step.instruction);
    const di: DebugProtocol.DisassembledInstruction = {
      address: address(insn),
      instructionBytes: m?.[1],
      instruction: m?.[2] ?? step.instruction,
    };
    if (step.line !== undefined && step.line !== lastLine) {
      di.location = sourceOf(step.file);
      di.line = step.line;
      di.symbol = step.code;
    }
    lastLine = step.line;
    instructions.push(di);
  }
  return instructions;
}
