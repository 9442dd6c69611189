// uprobe_malloc on the real kernel: a child (C, so every malloc is one we asked for) makes 300
// allocations of 3000 bytes, 20 of 1 MiB and one impossible one; the histogram and the outcomes show
// exactly those, because the uprobes are attached for the child's pid only.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Methods } from '../../../extension/protocol/methods';
import { tempDir } from '../../support/kernel';
import { eventually, lookupFields, mapId, sampleSuite, samplePath, u32le, WaitingChild } from './sample-env';

// read(2) rather than stdio: stdio would malloc its buffer, maybe after the probes are attached.
const CHILD = `#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	char go;
	void *volatile p;
	if (read(0, &go, 1) != 1)
		return 2;
	for (int i = 0; i < 300; i++) { p = malloc(3000); free(p); }
	for (int i = 0; i < 20; i++) { p = malloc(1 << 20); free(p); }
	p = malloc((size_t)1 << 62);
	return p == NULL ? 0 : 1;
}
`;

/** The libc a running process mapped, from /proc/PID/maps. */
function libcOf(pid: number): string | undefined {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  return /\s(\/\S*\/libc\.so\.6)$/m.exec(maps)?.[1];
}

describe('sample uprobe_malloc', function () {
  const suite = sampleSuite('uprobe_malloc');
  let childBinary: string;

  before(function () {
    const dir = tempDir('malloc-child');
    fs.writeFileSync(path.join(dir, 'child.c'), CHILD);
    childBinary = path.join(dir, 'malloc-child');
    execFileSync('cc', ['-O0', '-o', childBinary, path.join(dir, 'child.c')]);
  });

  it('histograms the sizes one process asks malloc for, and counts the failure', async () => {
    const client = suite.client();
    const child = new WaitingChild(childBinary, []);
    try {
      const libc = await eventually(() => libcOf(child.pid));
      assert.ok(libc, 'the child has libc mapped');
      const target = { kind: 'uprobe' as const, binary: libc, func: 'malloc', pid: child.pid };
      const load = await client.request(Methods.load, {
        path: suite.object(),
        source: samplePath('uprobe_malloc'),
        attach: { malloc_enter: { ...target, retprobe: false }, malloc_exit: { ...target, retprobe: true } },
      });
      assert.ok(
        load.programs.every((p) => p.attachment),
        'both probes are attached',
      );
      const { code, output } = await child.go();
      assert.equal(code, 0, `the child ran (${output})`);
      const sizes = mapId(load, 'sizes');
      const slot = async (n: number) => (await lookupFields(client, sizes, u32le(n), 1))[0];
      assert.equal(await slot(11), 300n, '3000 bytes: slot 11 (2048..4095)');
      assert.equal(await slot(20), 20n, '1 MiB: slot 20');
      assert.equal(await slot(62), 1n, '2^62 bytes: slot 62');
      const outcomes = mapId(load, 'outcomes');
      assert.equal((await lookupFields(client, outcomes, u32le(0), 1))[0], 320n, 'returned memory');
      assert.equal((await lookupFields(client, outcomes, u32le(1), 1))[0], 1n, 'returned NULL');
    } finally {
      child.kill();
    }
  });
});
