// Gathers the structs a load's ring/perf buffer events may be: the object's BTF, the BTF of its source's
// own headers (compiled apart, toolchain/header-structs.ts), and the kernel's struct names to rank kernel
// types last (formats/event-struct.ts decides). No vscode import: kernel tests use it.
import * as fs from 'fs';
import type { BtfType } from '../../../protocol/types';
import { Methods } from '../../../protocol/methods';
import { parseBtfNames } from '../../../formats/btf-names';
import { eventStructCandidates, EventStructCandidate } from '../../../formats/event-struct';
import { compileHeaderStructs } from '../../../toolchain/header-structs';
import type { CompileOptions } from '../../../toolchain/compile';
import type { TraceHelper } from './source';

let kernelStructs: Set<string> | undefined;

/** Struct and union names of the running kernel's BTF, read once; empty without kernel BTF. */
export function kernelStructNames(btfPath = '/sys/kernel/btf/vmlinux'): Set<string> {
  if (!kernelStructs) {
    try {
      kernelStructs = new Set(parseBtfNames(fs.readFileSync(btfPath)).structs);
    } catch {
      kernelStructs = new Set();
    }
  }
  return kernelStructs;
}

/** The source a load was built from: the one it names, else x.bpf.c beside x.bpf.o. */
export function sourceOfLoad(load: { path: string; source?: string }): string | undefined {
  if (load.source && fs.existsSync(load.source)) return load.source;
  const beside = load.path.replace(/\.o$/, '.c');
  return load.path.endsWith('.bpf.o') && fs.existsSync(beside) ? beside : undefined;
}

/** Every candidate struct for a load's events, by origin (object, its headers, kernel). */
export async function eventStructsOfLoad(
  helper: Pick<TraceHelper, 'request'>,
  load: { path: string; source?: string },
  compile: Omit<CompileOptions, 'outDir'> = {},
): Promise<EventStructCandidate[]> {
  const none = {} as Record<string, BtfType>;
  const objectStructs = load.path
    ? await helper.request(Methods.structTypes, { path: load.path }).catch(() => none)
    : none;
  let headerStructs = none;
  const source = sourceOfLoad(load);
  if (source) {
    const compiled = await compileHeaderStructs(source, compile).catch(() => undefined);
    if (compiled) {
      const all = await helper.request(Methods.structTypes, { path: compiled.objectPath }).catch(() => none);
      headerStructs = Object.fromEntries(compiled.structs.filter((s) => all[s.name]).map((s) => [s.name, all[s.name]]));
    }
  }
  return eventStructCandidates(objectStructs, headerStructs, kernelStructNames());
}
