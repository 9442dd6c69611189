// The extension side as an ordinary user: the helper is installed root-owned (`ebpf-studio install-helper`,
// with a sudoers rule for exactly its launcher), elevated through sudo, and refused without the rule.
// The bundle is copied to a world-readable directory, as an installed extension would be.
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sudoersFileName } from '../../extension/formats/helper-install';
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
const sudoersFile = path.join('/etc/sudoers.d', sudoersFileName(allowedUser));

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function ensureUser(name: string): void {
  if (spawnSync('id', ['-u', name]).status !== 0)
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name]);
}

/** Runs the CLI (the extension's client code) as `user`; returns its exit code and output. */
function runAs(user: string, dist: string, args: string[]) {
  const cli = [process.execPath, path.join(dist, 'cli.js'), ...args, '--install-root', installRoot];
  const result = spawnSync('runuser', ['-u', user, '--', ...cli], {
    encoding: 'utf8',
    cwd: '/',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent' },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let installRoot: string;

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
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
    const objects = path.join(root, 'objects');
    fs.mkdirSync(objects, { mode: 0o755 });
    object = await buildObject(samplePath('fork_trace'), objects);
    fs.chmodSync(object, 0o644);
    ensureUser(allowedUser);
    ensureUser(refusedUser);
    assert.ok(!fs.existsSync(sudoersFile), `${sudoersFile} exists already: not overwriting it`);
    // Installed root-owned, with a rule for exactly its launcher (test/security/installed-helper.test.ts
    // checks the install itself).
    installRoot = path.join(root, 'lib');
    execFileSync(process.execPath, [
      path.join(dist, 'cli.js'),
      'install-helper',
      '--rule',
      'sudoers',
      '--user',
      allowedUser,
      '--install-root',
      installRoot,
    ]);
  });

  after(async function () {
    fs.rmSync(sudoersFile, { force: true });
    if (installRoot) fs.rmSync(path.dirname(installRoot), { recursive: true, force: true });
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
