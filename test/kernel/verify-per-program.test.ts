// Save -> diagnostic when a save changes some programs of an object: the helper verifies only the programs
// whose verification key changed (formats/program-keys.ts), reuses the verdicts of the others, and what is
// published equals a full verification with the cache off. Real clang builds, the real helper and kernel.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { RequestType } from 'vscode-jsonrpc';
import { HelperClient } from '../../extension/host/client/client';
import { Methods, type LoadParams } from '../../extension/protocol/methods';
import { checkSource, verifyObject, type HelperRequester, type Verifier } from '../../extension/toolchain/verify';
import { VerifyCache } from '../../extension/toolchain/verify-cache';
import {
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  requireCapability,
  tempDir,
} from '../support/kernel';

interface Parts {
  above?: string;
  bump?: number;
  limit?: number;
  other?: number;
  entries?: number;
}

// fork_a and fork_b share bump (a .text subprogram over the map); limited reads a .rodata constant; broken
// is rejected (a map value used without a NULL check); other stands alone.
const source = (p: Parts) => `// SPDX-License-Identifier: GPL-2.0
${p.above ?? ''}#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
\t__uint(type, BPF_MAP_TYPE_ARRAY);
\t__uint(max_entries, ${p.entries ?? 4});
\t__type(key, __u32);
\t__type(value, __u64);
} counts SEC(".maps");

const volatile __u32 limit = ${p.limit ?? 3};

static __noinline int bump(__u32 key)
{
\t__u64 *value = bpf_map_lookup_elem(&counts, &key);

\tif (!value)
\t\treturn 0;
\t__sync_fetch_and_add(value, ${p.bump ?? 1});
\treturn 1;
}

SEC("xdp")
int fork_a(struct xdp_md *ctx)
{
\treturn bump(0) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int fork_b(struct xdp_md *ctx)
{
\treturn bump(ctx->rx_queue_index & 1) ? XDP_PASS : XDP_DROP;
}

SEC("tc")
int limited(struct __sk_buff *skb)
{
\treturn skb->len > limit ? 1 : 0;
}

SEC("socket")
int broken(struct __sk_buff *skb)
{
\t__u32 key = 2;
\t__u64 *value = bpf_map_lookup_elem(&counts, &key);

\treturn *value; /* no NULL check: rejected */
}

SEC("socket")
int other(struct __sk_buff *skb)
{
\treturn skb->len > ${p.other ?? 100} ? 0 : -1;
}

char LICENSE[] SEC("license") = "GPL";
`;

const ALL = ['fork_a', 'fork_b', 'limited', 'broken', 'other'];

describe('save -> diagnostic: only changed programs are verified again', function () {
  this.timeout(300_000);

  before(function () {
    requireCapability(this, isRoot(), 'verification loads programs into the kernel and needs root');
  });

  it('loads only the programs a save changed and publishes what a full verification publishes', async () => {
    const baseline = kernelObjects();
    const helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'verify-per-program' });
    try {
      const work = tempDir('per-program');
      const file = path.join(work, 'multi.bpf.c');
      const cache = new VerifyCache();
      // The programs each verify-only load sent to the helper asked for, in order.
      let loaded: string[] = [];
      const counting: HelperRequester = {
        request<P, R>(type: RequestType<P, R, void>, params: P): Promise<R> {
          if (type.method === Methods.load.method) loaded.push(...((params as LoadParams).programs ?? []));
          return helper.request(type, params);
        },
      };
      const cached: Verifier = (o, s, dirs) => verifyObject(counting, o, s, dirs, { cache });
      const full: Verifier = (o, s, dirs) => verifyObject(helper, o, s, dirs, { cache: false });
      const check = (verifier: Verifier) => checkSource(verifier, file, { outDir: path.join(work, 'out') });
      const unstable = (log: string) =>
        log.replace(/verification time \d+ usec/g, 'verification time N usec').replace(/0xffff[0-9a-f]{12}/g, '0xADDR');
      const publishable = (r: Awaited<ReturnType<typeof check>>) => ({
        built: r.built,
        programs: r.programs.map((p) => ({
          ...p,
          ...('log' in p ? { log: unstable(p.log) } : {}),
          ...('stats' in p ? { stats: { ...p.stats, verificationTimeUsec: 0 } } : {}),
        })),
        diagnostics: r.diagnostics,
      });
      /** Saves `parts`, checks with the cache; returns which programs were loaded and what was published. */
      const save = async (parts: Parts) => {
        fs.writeFileSync(file, source(parts));
        loaded = [];
        const result = await check(cached);
        const reference = await check(full);
        assert.deepEqual(publishable(result), publishable(reference), 'the same as a full verification');
        return { loaded: [...new Set(loaded)].sort(), result };
      };

      const first = await save({});
      assert.deepEqual(first.loaded, [...ALL].sort(), 'the first save verifies every program');
      assert.deepEqual(
        first.result.programs.map((p) => [p.program, p.status]),
        ALL.map((name) => [name, name === 'broken' ? 'rejected' : 'verified']),
      );
      const rejection = (r: typeof first.result) =>
        r.diagnostics.find((d) => d.severity === 'error' && /broken/.test(d.message));
      const rejectedAt = rejection(first.result)?.line;
      assert.ok(rejectedAt && source({}).split('\n')[rejectedAt - 1].includes('return *value'), `line ${rejectedAt}`);

      // One program's code changed: it alone is loaded.
      assert.deepEqual((await save({ other: 200 })).loaded, ['other']);
      assert.ok(cache.stats.programsReused >= 4);

      // Lines added above everything: accepted verdicts stand; the rejection is verified again and lands
      // on its new line.
      const moved = await save({ other: 200, above: '/* one */\n/* two */\n/* three */\n' });
      assert.deepEqual(moved.loaded, ['broken']);
      assert.equal(rejection(moved.result)?.line, rejectedAt + 3);

      // The shared subprogram changed (and the lines above are gone again: broken is back where a verdict
      // for it is remembered): both its users, and only they.
      assert.deepEqual((await save({ other: 200, bump: 3 })).loaded, ['fork_a', 'fork_b']);
      assert.equal(rejection((await save({ other: 200, bump: 3 })).result)?.line, rejectedAt);

      // A .rodata constant changed: the program that reads it.
      assert.deepEqual((await save({ other: 200, bump: 3, limit: 9 })).loaded, ['limited']);

      // A map definition changed: every program's load creates it, so all are verified again.
      const resized = await save({ other: 200, bump: 3, limit: 9, entries: 8 });
      assert.deepEqual(resized.loaded, [...ALL].sort());

      // Nothing changed: nothing is loaded.
      assert.deepEqual((await save({ other: 200, bump: 3, limit: 9, entries: 8 })).loaded, []);
      assert.deepEqual(await helper.request(Methods.listLoaded), [], 'verification leaves no load behind');
    } finally {
      await helper.dispose();
    }
    await expectKernelAsBefore(baseline);
  });
});
