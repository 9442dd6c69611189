// Extension host: run counts and run time of the programs eBPF Studio loaded, for the lenses over their
// source (C through the language server, Rust through rust-lines).
import type { ProgramRunStats } from '../language-server/lsp-ext';
import { LoadedSummary, Methods } from '../protocol/methods';
import type { Ctx } from './ctx';

/** runCount/runTimeNs of the loaded programs of every load `ofLoad` picks. */
export async function runStatsOfLoads(ctx: Ctx, ofLoad: (load: LoadedSummary) => boolean): Promise<ProgramRunStats[]> {
  const helper = ctx.helper;
  if (!helper) return [];
  const loads = (await helper.request(Methods.listLoaded)).filter(ofLoad);
  if (loads.length === 0) return [];
  const byId = new Map((await helper.request(Methods.programs)).map((p) => [p.id, p]));
  return loads.flatMap((load) =>
    load.programs
      .filter((p) => p.loaded && byId.has(p.id))
      .map((p) => ({
        program: p.name,
        id: p.id,
        runCount: byId.get(p.id)!.runCount,
        runTimeNs: byId.get(p.id)!.runTimeNs,
      })),
  );
}
