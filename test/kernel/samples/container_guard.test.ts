// container_guard on the real kernel. Where the kernel refuses BPF LSM programs (capabilities says
// program:lsm is unsupported, as on this project's VM: EPERM), eBPF Studio must say exactly that and
// leave nothing behind. Where it allows them, a process in a marked cgroup may not bind-mount /proc or
// chroot, and the denials arrive through the ring buffer.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Methods } from '../../../extension/protocol/methods';
import { tempDir } from '../../support/kernel';
import {
  collect,
  cString,
  eventually,
  expectRefusal,
  mapId,
  sampleSuite,
  samplePath,
  TestCgroup,
  u32le,
  u64le,
  WaitingChild,
} from './sample-env';

// Prints the errno of mount(2) and chroot(2) ("mount=1 chroot=1" when both are denied with EPERM).
const CHILD = `#include <errno.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char go;
	int m, c;
	if (read(0, &go, 1) != 1)
		return 2;
	m = mount("/proc", argv[1], NULL, MS_BIND, NULL) ? errno : 0;
	if (!m)
		umount(argv[1]);
	c = chroot(argv[1]) ? errno : 0;
	printf("mount=%d chroot=%d\\n", m, c);
	return 0;
}
`;

describe('sample container_guard', function () {
  const suite = sampleSuite('container_guard');

  it("is refused with the kernel's exact reason where BPF LSM is not allowed, else denies mount and chroot in a marked cgroup", async function () {
    const client = suite.client();
    const lsm = (await client.request(Methods.capabilities))['program:lsm'];
    assert.ok(lsm, 'capabilities has a program:lsm row');

    if (!lsm.supported) {
      const error = await expectRefusal(
        client.request(Methods.load, { path: suite.object(), source: samplePath('container_guard') }),
      );
      assert.equal(error.data.kind, 'NotSupported');
      const errno = /^(E[A-Z]+)/.exec(lsm.reason ?? '')?.[1];
      assert.ok(errno, `the capability names the errno (${lsm.reason})`);
      assert.match(
        error.message,
        new RegExp(
          `^Cannot load (deny_sensitive_mount|deny_chroot) \\(SEC\\("lsm/(sb_mount|path_chroot)"\\)\\): ` +
            `this kernel refuses lsm \\(lsm_mac\\) programs with ${errno}\\. Likely cause: `,
        ),
      );
      if (error.data.kind === 'NotSupported') assert.equal(error.data.feature, 'lsm (lsm_mac) programs');
      // Nothing of the object stays behind (the suite also compares bpftool's lists before and after).
      const programs = (await client.request(Methods.programs)).map((p) => p.name);
      const maps = (await client.request(Methods.maps)).map((m) => m.name);
      assert.deepEqual(
        programs.filter((n) => n.startsWith('deny_')),
        [],
        'no program of the object is left',
      );
      assert.deepEqual(
        maps.filter((n) => /^(guarded_cgroup|denials|container_g)/.test(n)),
        [],
        'no map of the object is left',
      );
      return;
    }

    const dir = tempDir('guard');
    fs.writeFileSync(path.join(dir, 'child.c'), CHILD);
    execFileSync('cc', ['-o', path.join(dir, 'child'), path.join(dir, 'child.c')]);
    const target = path.join(dir, 'target');
    fs.mkdirSync(target);
    const cgroup = TestCgroup.create();
    const child = new WaitingChild(path.join(dir, 'child'), [target]);
    try {
      const load = await client.request(Methods.load, { path: suite.object(), source: samplePath('container_guard') });
      assert.ok(
        load.programs.every((p) => p.attachment),
        'both LSM programs are attached',
      );
      const denials = await collect(client, { source: 'ringbuf', mapId: mapId(load, 'denials') });
      try {
        await client.request(Methods.mapUpdate, {
          mapId: mapId(load, 'guarded_cgroups'),
          key: u64le(cgroup.id),
          value: u32le(1),
        });
        cgroup.add(child.pid);
        const { output } = await child.go();
        assert.equal(output.trim(), 'mount=1 chroot=1', 'both are denied with EPERM in the marked cgroup');
        const events = await eventually(() => (denials.records.length >= 2 ? denials.records : undefined));
        assert.ok(events, 'two denial events arrived');
        assert.deepEqual(
          events.map((e) => [e.readBigUInt64LE(0), e.readUInt32LE(8), e.readUInt32LE(12), cString(e.subarray(32, 96))]),
          [
            [cgroup.id, child.pid, 1, '/proc'],
            [cgroup.id, child.pid, 2, 'target'],
          ],
        );
      } finally {
        await denials.stop();
      }
    } finally {
      child.kill();
      await cgroup.remove();
    }
  });
});
