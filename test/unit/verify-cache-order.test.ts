// The verify cache's contract without the kernel: whatever each program's verdict (accepted, rejected,
// refused, failed for its own reason), verifyObject() with per-program reuse publishes the same verdicts and
// diagnostics, in the same order, as without the cache, across saves that change one program or move lines.
// The helper here answers as the real one does (a load stops at the first program, in object order, that
// is rejected, refused or fails); kernel behaviour itself is checked in test/kernel/verify-per-program.test.ts.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import type { RequestType } from 'vscode-jsonrpc';
import { Methods, type DescribeResult, type LoadParams, type LoadResult } from '../../extension/protocol/methods';
import { HelperError } from '../../extension/protocol/errors';
import { verifyObject, type HelperRequester } from '../../extension/toolchain/verify';
import { VerifyCache } from '../../extension/toolchain/verify-cache';
import { tempDir } from '../support/kernel';

const NAMES = ['first', 'second', 'third', 'fourth'];
type Kind = 'ok' | 'rejected' | 'refused' | 'failed';

const source = (other: number, above: string) => `${above}#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
${NAMES.map(
  (name, i) => `SEC("socket") int ${name}(struct __sk_buff *skb)
{
  return skb->len > ${i === 3 ? other : 10 * (i + 1)};
}`,
).join('\n')}
`;

/** A helper that verifies by a table, as libbpf loads: in object order, stopping at the first failure. */
function tableHelper(verdicts: Record<string, Kind>, sourceText: () => string, asked: string[][]): HelperRequester {
  return {
    async request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
      if (type.method === Methods.describe.method) {
        const spec = {
          name: 'multi',
          programs: NAMES.map((name) => ({ name, section: 'socket' })),
          maps: [],
          variables: [],
        };
        return spec as unknown as DescribeResult as R;
      }
      const load = params as LoadParams;
      asked.push([...(load.programs ?? [])]);
      for (const name of load.programs ?? []) {
        // A rejection's log names the program's line as the source is now.
        const line =
          sourceText()
            .split('\n')
            .findIndex((l) => l.includes(`int ${name}(`)) + 3;
        const kind = verdicts[name];
        if (kind === 'rejected')
          throw new HelperError(`Loading ${name} failed`, {
            kind: 'VerifierRejected',
            program: name,
            message: 'R0 invalid mem access',
            log: `0: (61) r0 = *(u32 *)(r1 +0)\n; return skb->len; @ multi.bpf.c:${line}\nR0 invalid mem access 'scalar'\n`,
            errno: 13,
          });
        if (kind === 'refused')
          throw new HelperError(`Cannot load ${name}: not here`, {
            kind: 'NotSupported',
            feature: 'x',
            reason: 'no',
            program: name,
          });
        if (kind === 'failed') throw new HelperError(`Cannot load ${name}: E2BIG`, { kind: 'Internal', program: name });
      }
      const programs = (load.programs ?? []).map((name, i) => ({
        name,
        section: 'socket',
        type: 'socket_filter',
        loaded: true,
        id: 100 + i,
        stats: { insnsProcessed: 10 + NAMES.indexOf(name) },
      }));
      const result: LoadResult = {
        loadId: '',
        name: 'multi',
        path: load.path,
        loadedAt: 0,
        pinned: false,
        programs,
        maps: [],
      };
      return result as R;
    },
  };
}

describe('verify cache: per-program reuse publishes what a full verification does', function () {
  this.timeout(120_000);

  it('for any verdicts, over saves that change one program and move lines', async () => {
    const dir = tempDir('verify-cache-order');
    const src = path.join(dir, 'multi.bpf.c');
    const obj = path.join(dir, 'multi.bpf.o');
    const saves = [source(40, ''), source(41, ''), source(41, '// moved\n'), source(40, '// moved\n'), source(40, '')];
    const objects = saves.map((text, i) => {
      fs.writeFileSync(src, text);
      execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', src, '-o', obj]);
      const copy = path.join(dir, `save${i}.o`);
      fs.copyFileSync(obj, copy);
      return copy;
    });
    const kinds = fc.constantFrom<Kind>('ok', 'rejected', 'refused', 'failed');
    await fc.assert(
      fc.asyncProperty(fc.tuple(kinds, kinds, kinds, kinds), async (table) => {
        const verdicts = Object.fromEntries(NAMES.map((n, i) => [n, table[i]]));
        const cache = new VerifyCache();
        let text = '';
        const withCache: string[][] = [];
        const without: string[][] = [];
        for (const [i, saved] of saves.entries()) {
          text = saved;
          fs.writeFileSync(src, text);
          // The object is verified where it was built (one path across saves, as the editor's out dir).
          fs.copyFileSync(objects[i], obj);
          const cached = await verifyObject(
            tableHelper(verdicts, () => text, withCache),
            obj,
            src,
            [],
            { cache },
          );
          const full = await verifyObject(
            tableHelper(verdicts, () => text, without),
            obj,
            src,
            [],
            { cache: false },
          );
          assert.deepEqual(cached, full, `save ${i}, verdicts ${table.join(',')}`);
        }
        // Fewer programs asked about in all, unless every program failed for its own reason each time.
        const count = (loads: string[][]) => loads.reduce((n, l) => n + l.length, 0);
        if (table.some((k) => k !== 'failed')) assert.ok(count(withCache) < count(without));
      }),
      { numRuns: 40 },
    );
  });
});
