// The extension side as an ordinary user: the helper is elevated through sudo (a NOPASSWD rule for
// exactly the helper's command line, as an administrator would write it), and refused without one.
// The bundle is copied to a world-readable directory, as an installed extension would be.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildObject,
  isRoot,
  expectKernelAsBefore,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
  samplePath,
  tempDir,
} from '../support/kernel';

const allowedUser = 'ebpfstudio-sudo';
const refusedUser = 'ebpfstudio-nosudo';
const sudoersFile = '/etc/sudoers.d/ebpf-studio-test';

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function ensureUser(name: string): void {
  if (spawnSync('id', ['-u', name]).status !== 0)
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]);
}

/** Runs the CLI (the extension's client code) as `user`; returns its exit code and output. */
function runAs(user: string, dist: string, args: string[]) {
  const result = spawnSync('runuser', ['-u', user, '--', process.execPath, path.join(dist, 'cli.js'), ...args], {
    encoding: 'utf8',
    cwd: '/',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent' },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('elevation as a non-root user', function () {
  let dist: string;
  let object: string;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'creating test users and sudoers rules needs root');
    requireCapability(
      this,
      which('sudo') && which('runuser') && which('useradd'),
      'sudo, runuser and useradd are needed (apt-get install sudo)',
    );
    baseline = kernelObjects();
    const root = tempDir('elevation');
    fs.chmodSync(root, 0o755);
    dist = path.join(root, 'dist');
    fs.cpSync(path.join(repoRoot, 'dist'), dist, { recursive: true });
    const objects = path.join(root, 'objects');
    fs.mkdirSync(objects, { mode: 0o755 });
    object = await buildObject(samplePath('fork_trace'), objects);
    fs.chmodSync(object, 0o644);
    ensureUser(allowedUser);
    ensureUser(refusedUser);
    // Exactly the helper's command line, nothing more: the rule a careful administrator writes.
    fs.writeFileSync(
      sudoersFile,
      `${allowedUser} ALL=(root) NOPASSWD: ${process.execPath} ${path.join(dist, 'helper.js')}\n`,
      { mode: 0o440 },
    );
    execFileSync('visudo', ['-c', '-f', sudoersFile]);
  });

  after(async function () {
    fs.rmSync(sudoersFile, { force: true });
    for (const user of [allowedUser, refusedUser]) spawnSync('userdel', [user]);
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('loads, lists and unloads through a helper started with sudo', async () => {
    const load = runAs(allowedUser, dist, ['load', object, '--elevation', 'sudo', '--json']);
    assert.equal(load.status, 0, load.stderr);
    const loaded = JSON.parse(load.stdout);
    assert.equal(loaded.programs[0].name, 'trace_fork');
    assert.equal(loaded.programs[0].attachment.description, 'tracepoint/sched/sched_process_fork');

    // "auto" finds sudo by itself, and the new helper finds the pinned load again.
    const list = runAs(allowedUser, dist, ['list']);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(
      JSON.parse(list.stdout).map((l: { loadId: string }) => l.loadId),
      [loaded.loadId],
    );

    const unload = runAs(allowedUser, dist, ['unload', loaded.loadId]);
    assert.equal(unload.status, 0, unload.stderr);
    await expectKernelAsBefore(baseline);
  });

  it('says clearly when sudo refuses, and loads nothing', async () => {
    const result = runAs(refusedUser, dist, ['load', object, '--elevation', 'sudo']);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /sudo refused to start the eBPF Studio helper as root \(sudo: a password is required\)/,
    );
    assert.match(result.stderr, /ebpfStudio\.helper\.elevation/);
    await expectKernelAsBefore(baseline);
  });

  it('says clearly when run without elevation and without privileges', () => {
    const result = runAs(refusedUser, dist, ['list', '--elevation', 'none']);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /lacks the privileges to load BPF programs|Operation not permitted|EPERM/);
  });
});
