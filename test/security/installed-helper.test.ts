// The installed, root-owned helper (issue 9): installed as root from a user-owned extension directory, then
// started by that user (a real non-root account) through the installed sudoers rule, as the extension does.
// The user owns the extension directory and every process of theirs is hostile here: they rewrite its
// helper.js, set NODE_OPTIONS and EBPF_STUDIO_ADDON, try other commands through sudo and try to change the
// installed files. None of it changes what runs as root. Leaves the system as it was (user, rule, files).
import { strict as assert } from 'assert';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import {
  HELPER_FILES,
  InstallManifest,
  LAUNCHER,
  MANIFEST,
  POLKIT_POLICY_FILE,
  RULE_MARKER,
  sudoersFileName,
} from '../../extension/formats/helper-install';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import {
  expectKernelAsBefore,
  isRoot,
  kernelObjects,
  KernelObjects,
  repoRoot,
  requireCapability,
} from '../support/kernel';

const user = 'ebpfstudio-inst';
const sudoersFile = path.join('/etc/sudoers.d', sudoersFileName(user));
const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function which(tool: string): boolean {
  return ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => fs.existsSync(path.join(d, tool)));
}

/** A directory root owns, readable by everyone (the test user must reach what is inside). */
function rootDir(prefix: string): string {
  const dir = fs.mkdtempSync(`/tmp/ebpf-studio-${prefix}-`);
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Runs a command as the test user, with the environment an extension host of theirs might have. */
function asUser(argv: string[], env: Record<string, string> = {}, timeout = 60_000) {
  const run = spawnSync('runuser', ['-u', user, '--', ...argv], {
    encoding: 'utf8',
    cwd: '/',
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', ...env },
    timeout,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Every file and directory under dir with owner and mode. */
function tree(dir: string): { rel: string; uid: number; gid: number; mode: number; isDir: boolean }[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((rel) => {
    const st = fs.lstatSync(path.join(dir, rel));
    return { rel, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, isDir: st.isDirectory() };
  });
}

let tried = 0;
let refused = 0;
/** One attempt of the user's to get code of theirs run as root or to change the install; it must fail. */
function refusedAttempt(what: string, failed: boolean): void {
  tried++;
  assert.ok(failed, `the user could: ${what}`);
  refused++;
}

let ext: string; // the user's extension directory (package.json, dist/, client.js)
let dist: string;
let installRoot: string;
let installDir: string;
let scratch: string; // where the user's hostile files and the marks they leave go

describe('installed helper: the user cannot change what runs as root', function () {
  let createdUser = false;
  let baseline: KernelObjects;
  const markers: string[] = [];

  before(async function () {
    requireCapability(this, isRoot(), 'installing the helper and creating a test user need root');
    requireCapability(
      this,
      which('sudo') && which('visudo') && which('runuser') && which('useradd'),
      'sudo, visudo, runuser and useradd are needed (apt-get install sudo)',
    );
    assert.ok(!fs.existsSync(sudoersFile), `${sudoersFile} exists already: not overwriting it`);
    baseline = kernelObjects();
    if (spawnSync('id', ['-u', user]).status !== 0) {
      execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
      createdUser = true;
    }
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
    // The extension as installed for this user: theirs to change.
    ext = rootDir('user-ext');
    dist = path.join(ext, 'dist');
    for (const name of [...HELPER_FILES, 'cli.js', 'install-helper.js'])
      fs.cpSync(path.join(repoRoot, 'dist', name), path.join(dist, name));
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(ext, 'package.json'));
    // A client of the user's that keeps its helper running until told to stop, so the test can look at it.
    await esbuild.build({
      stdin: {
        contents: `
          const { HelperClient } = require('./extension/host/client/client');
          const { useInstallRoot } = require('./extension/host/client/installed');
          const { Methods } = require('./extension/protocol/methods');
          (async () => {
            useInstallRoot(process.argv[2]);
            const client = await HelperClient.start({ helperScript: process.argv[3], elevation: 'sudo', clientName: 'installed-test' });
            const programs = await client.request(Methods.programs);
            process.stdout.write(JSON.stringify({ pid: client.info.pid, uid: client.info.uid, via: client.startedVia, programs: programs.length }) + '\\n');
            process.stdin.resume();
            process.stdin.on('end', () => client.dispose().then(() => process.exit(0)));
          })().catch((e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });`,
        resolveDir: repoRoot,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: path.join(ext, 'client.js'),
      logLevel: 'error',
    });
    execFileSync('chown', ['-R', `${uid}:${gid}`, ext]);
    installRoot = path.join(rootDir('install'), 'lib');
    installDir = path.join(installRoot, version);
    scratch = rootDir('scratch');
    fs.chmodSync(scratch, 0o1777); // the user's files, and marks left by whoever runs them
  });

  after(async function () {
    // Only what this test made: its rule, its install roots, its user.
    if (sudoersFile) fs.rmSync(sudoersFile, { force: true });
    for (const dir of [installRoot && path.dirname(installRoot), ext, scratch, ...markers])
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (createdUser) spawnSync('userdel', [user]);
    if (baseline) await expectKernelAsBefore(baseline);
    if (tried > 0) {
      const line = `${tried} attempts by a non-root user to change what runs as root, ${refused} refused`;
      console.log(`      ${line}`);
      ((globalThis as { ebpfStudioSummaryLines?: string[] }).ebpfStudioSummaryLines ??= []).push(line);
    }
  });

  it('installs as root: root-owned, no group/other write, manifest hashes, a visudo-checked rule', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(dist, 'cli.js'), 'install-helper', '--rule', 'sudoers', '--user', user, '--install-root', installRoot],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const entries = tree(installDir);
    for (const e of [...entries, { rel: '.', ...statOf(installDir) }, { rel: '..', ...statOf(installRoot) }]) {
      assert.equal(e.uid, 0, `${e.rel} is root's`);
      assert.equal(e.gid, 0, `${e.rel} is group root`);
      assert.equal(e.mode & 0o022, 0, `${e.rel} is writable by no one else`);
    }
    for (const e of entries)
      assert.equal(e.mode, e.isDir || e.rel === LAUNCHER ? 0o755 : 0o644, `${e.rel}: mode ${e.mode.toString(8)}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(installDir, MANIFEST), 'utf8')) as InstallManifest;
    assert.equal(manifest.version, version);
    assert.deepEqual(manifest.runtime, { path: process.execPath, copied: false, electron: false });
    assert.deepEqual(
      Object.keys(manifest.files).sort(),
      entries
        .filter((e) => !e.isDir && e.rel !== MANIFEST)
        .map((e) => e.rel)
        .sort(),
    );
    for (const [name, hash] of Object.entries(manifest.files))
      assert.equal(sha256(path.join(installDir, name)), hash, `${name} as in the manifest`);
    for (const name of HELPER_FILES) assert.equal(manifest.files[name], sha256(path.join(dist, name)), name);

    const rule = fs.readFileSync(sudoersFile, 'utf8');
    const st = fs.statSync(sudoersFile);
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o777, 0o440);
    assert.ok(rule.includes(RULE_MARKER));
    assert.deepEqual(
      rule.split('\n').filter((l) => l && !l.startsWith('#')),
      [`${user} ALL=(root) NOPASSWD: ${installDir}/${LAUNCHER} ""`],
      'one rule, for the installed launcher alone',
    );
    assert.equal(spawnSync('visudo', ['-c']).status, 0, 'the whole sudoers configuration still parses');
  });

  it('refuses to install a file that changed after the extension hashed it (copy, then hash the copy)', () => {
    const other = path.join(rootDir('toctou'), 'lib');
    // The extension hashed helper.js as it was; by the time the root step copies it, it is something else.
    const stale = crypto.createHash('sha256').update('the helper.js the extension hashed').digest('hex');
    const args = ['--from', dist, '--version', version, '--runtime', process.execPath, '--rule', 'none'];
    const expects = HELPER_FILES.flatMap((n) => [
      '--expect',
      `${n}=${n === 'helper.js' ? stale : sha256(path.join(dist, n))}`,
    ]);
    const run = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist', 'install-helper.js'), ...args, ...expects, '--install-root', other],
      {
        encoding: 'utf8',
      },
    );
    fs.rmSync(path.dirname(other), { recursive: true, force: true });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /helper\.js changed between the extension hashing it and the install copying it/);
  });

  it('the user starts the installed helper through sudo -n and it answers a real request', () => {
    const run = asUser([
      process.execPath,
      path.join(dist, 'cli.js'),
      'programs',
      '--elevation',
      'sudo',
      '--install-root',
      installRoot,
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Array.isArray(JSON.parse(run.stdout)), 'kernel/programs answered a list');
  });

  it('rewriting helper.js in the user’s extension directory does not change what runs as root', async () => {
    const marker = path.join(scratch, 'user-helper-ran-as-root');
    markers.push(marker);
    const evil = `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid())); process.exit(0);\n`;
    const write = asUser([
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(path.join(dist, 'helper.js'))}, ${JSON.stringify(evil)})`,
    ]);
    assert.equal(write.status, 0, `the user can rewrite their own helper.js: ${write.stderr}`);

    const { info, stop } = await startClientAsUser();
    try {
      assert.equal(info.uid, 0, 'the helper runs as root');
      assert.equal(info.via, 'sudo');
      assert.ok(info.programs >= 0);
      const cmdline = fs.readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      assert.deepEqual(cmdline, [process.execPath, path.join(installDir, 'helper.js')], 'the installed copy runs');
    } finally {
      await stop();
    }
    refusedAttempt('run a rewritten helper.js as root', !fs.existsSync(marker));
    // And sudo itself runs nothing else for the user: not their helper.js, not the launcher with arguments.
    for (const argv of [
      [process.execPath, path.join(dist, 'helper.js')],
      [path.join(installDir, LAUNCHER), '--inspect'],
      ['/usr/bin/env', 'NODE_OPTIONS=--require /x', path.join(installDir, LAUNCHER)],
    ]) {
      const r = asUser(['sudo', '-n', ...argv]);
      refusedAttempt(`sudo -n ${argv.join(' ')}`, r.status !== 0 && /password is required|not allowed/.test(r.stderr));
    }
    refusedAttempt('run a rewritten helper.js as root', !fs.existsSync(marker));
  });

  it('the user cannot change the installed files', () => {
    const target = path.join(installDir, 'helper.js');
    const attempts: [string, string][] = [
      ['write the installed helper.js', `fs.appendFileSync(${JSON.stringify(target)}, '//x')`],
      ['replace it by a rename', `fs.renameSync(${JSON.stringify(target)}, ${JSON.stringify(target + '.old')})`],
      ['remove it', `fs.unlinkSync(${JSON.stringify(target)})`],
      ['add a file beside it', `fs.writeFileSync(${JSON.stringify(path.join(installDir, 'native', 'x.node'))}, '')`],
      ['rewrite the manifest', `fs.writeFileSync(${JSON.stringify(path.join(installDir, MANIFEST))}, '{}')`],
      [
        'rename the version directory',
        `fs.renameSync(${JSON.stringify(installDir)}, ${JSON.stringify(installDir + '.x')})`,
      ],
      ['chmod the launcher', `fs.chmodSync(${JSON.stringify(path.join(installDir, LAUNCHER))}, 0o777)`],
    ];
    const before = tree(installDir).map((e) => [e.rel, e.mode, sha256OrDir(path.join(installDir, e.rel))]);
    for (const [what, code] of attempts) {
      const r = asUser([process.execPath, '-e', `const fs = require('fs'); ${code}`]);
      refusedAttempt(what, r.status !== 0 && /EACCES|EPERM/.test(r.stderr));
    }
    assert.deepEqual(
      tree(installDir).map((e) => [e.rel, e.mode, sha256OrDir(path.join(installDir, e.rel))]),
      before,
      'the install is as it was',
    );
  });

  it('the client refuses an install whose files do not match their manifest, or of another version', () => {
    const target = path.join(installDir, 'helper.js');
    const original = fs.readFileSync(target);
    fs.appendFileSync(target, '\n// changed after the install\n');
    try {
      const r = asUser([
        process.execPath,
        path.join(dist, 'cli.js'),
        'programs',
        '--elevation',
        'sudo',
        '--install-root',
        installRoot,
      ]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /helper\.js does not match its manifest \(sha256\)\. Reinstall it/);
      refusedAttempt('start a changed install', r.status === 1);
    } finally {
      fs.writeFileSync(target, original);
    }
    const older = path.join(installRoot, '0.0.1');
    fs.renameSync(installDir, older);
    try {
      const r = asUser([process.execPath, path.join(dist, 'cli.js'), 'programs', '--install-root', installRoot]);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `installed eBPF Studio helper is version 0\\.0\\.1; this extension is ${version.replace(/\./g, '\\.')}`,
        ),
      );
    } finally {
      fs.renameSync(older, installDir);
    }
    const none = asUser([process.execPath, path.join(dist, 'cli.js'), 'programs', '--install-root', scratch]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /privileged helper is not installed .*ebpf-studio install-helper/);
  });

  it('NODE_OPTIONS and EBPF_STUDIO_ADDON set in the host reach neither the launcher’s runtime nor the addon loader', async () => {
    const nodeOptionsMark = path.join(scratch, 'node-options-ran');
    const addonMark = path.join(scratch, 'addon-override-ran');
    markers.push(nodeOptionsMark, addonMark);
    const evilRequire = path.join(scratch, 'evil-require.js');
    const evilAddon = path.join(scratch, 'evil-addon.js');
    fs.writeFileSync(
      evilRequire,
      `require('fs').appendFileSync(${JSON.stringify(nodeOptionsMark)}, process.getuid() + '\\n');\n`,
      { mode: 0o644 },
    );
    fs.writeFileSync(
      evilAddon,
      `require('fs').appendFileSync(${JSON.stringify(addonMark)}, process.getuid() + '\\n'); throw new Error('not an addon');\n`,
      { mode: 0o644 },
    );
    const hostile = {
      NODE_OPTIONS: `--require ${evilRequire}`,
      EBPF_STUDIO_ADDON: evilAddon,
      EBPF_STUDIO_FAULT: 'load:loaded',
      LD_LIBRARY_PATH: scratch,
    };

    // Controls: both files do run when honoured, so their absence below means something.
    spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: hostile.NODE_OPTIONS } });
    assert.ok(fs.existsSync(nodeOptionsMark), 'control: NODE_OPTIONS --require runs the file');
    fs.rmSync(nodeOptionsMark);
    const fromRepo = await startDirect(path.join(repoRoot, 'dist', 'helper.js'), { EBPF_STUDIO_ADDON: evilAddon });
    await fromRepo.dispose();
    assert.ok(fs.existsSync(addonMark), 'control: the repository’s helper honours EBPF_STUDIO_ADDON (tests use it)');
    fs.rmSync(addonMark);

    // Through the installed rule, as the user, with the hostile environment in the host.
    const { info, stop } = await startClientAsUser(hostile);
    try {
      const environ = fs.readFileSync(`/proc/${info.pid}/environ`, 'utf8').split('\0').filter(Boolean);
      assert.deepEqual(
        environ.map((e) => e.split('=')[0]).sort(),
        ['LANG', 'PATH'],
        `the helper's whole environment: ${environ.join(' ')}`,
      );
      assert.ok(environ.includes('PATH=/usr/sbin:/usr/bin:/sbin:/bin'));
    } finally {
      await stop();
    }
    // The user's own client ran NODE_OPTIONS as the user (their right); root ran nothing of it.
    refusedAttempt('NODE_OPTIONS into the root helper', !ranAsRoot(nodeOptionsMark));
    refusedAttempt('EBPF_STUDIO_ADDON into the root helper', !ranAsRoot(addonMark));

    // Even started without the launcher (root's own mistake), the installed helper ignores the override.
    const installed = await startDirect(path.join(installDir, 'helper.js'), { EBPF_STUDIO_ADDON: evilAddon });
    try {
      assert.ok(Array.isArray(await installed.request(Methods.programs)));
    } finally {
      await installed.dispose();
    }
    refusedAttempt('EBPF_STUDIO_ADDON into an installed helper started directly', !ranAsRoot(addonMark));
  });

  it('a polkit policy names only the installed launcher; uninstall removes only what install wrote', () => {
    const polkitDir = path.join(scratch, 'polkit');
    const sudoersDir = path.join(scratch, 'sudoers.d');
    fs.mkdirSync(polkitDir);
    fs.mkdirSync(sudoersDir);
    const run = spawnSync(
      process.execPath,
      [
        path.join(dist, 'cli.js'),
        'install-helper',
        '--rule',
        'polkit',
        '--install-root',
        installRoot,
        '--polkit-dir',
        polkitDir,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const file = path.join(polkitDir, POLKIT_POLICY_FILE);
    const policy = fs.readFileSync(file, 'utf8');
    const st = fs.statSync(file);
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(policy.match(/<action /g)?.length, 1, 'one action');
    const annotations = [...policy.matchAll(/<annotate key="([^"]+)">([^<]*)<\/annotate>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(annotations, [['org.freedesktop.policykit.exec.path', path.join(installDir, LAUNCHER)]]);
    // Every absolute path in the policy's text (tags, comment and DTD stripped): the launcher alone.
    const text = policy.replace(/<[^>]*>/g, ' ');
    const paths = [...text.matchAll(/(?:^|\s)(\/[\w.+/-]+)/g)].map((m) => m[1]);
    assert.deepEqual(paths, [path.join(installDir, LAUNCHER)], 'no other path is named');
    assert.match(policy, /<allow_active>auth_admin_keep<\/allow_active>/);
    assert.doesNotMatch(policy, /<allow_\w+>yes<\/allow_\w+>/);
    assert.equal(unsafe(path.join(installDir, LAUNCHER)), undefined, 'the command it names is root-owned');

    // Uninstall (against copies of the rule directories): only files carrying the installer's marker go.
    fs.copyFileSync(sudoersFile, path.join(sudoersDir, sudoersFileName(user)));
    fs.writeFileSync(path.join(sudoersDir, 'ebpf-studio-someone-elses'), 'alice ALL=(root) NOPASSWD: /bin/true\n');
    const other = path.join(installRoot, 'unrelated');
    fs.mkdirSync(other);
    const gone = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'dist', 'install-helper.js'),
        '--uninstall',
        '--install-root',
        installRoot,
        '--sudoers-dir',
        sudoersDir,
        '--polkit-dir',
        polkitDir,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(gone.status, 0, gone.stderr);
    assert.deepEqual(fs.readdirSync(sudoersDir), ['ebpf-studio-someone-elses']);
    assert.deepEqual(fs.readdirSync(polkitDir), []);
    assert.deepEqual(fs.readdirSync(installRoot), ['unrelated']);
  });
});

/** Whether a mark file (one uid a line, written by whoever ran the hostile file) says root ran it. */
function ranAsRoot(mark: string): boolean {
  return fs.existsSync(mark) && fs.readFileSync(mark, 'utf8').split('\n').includes('0');
}

function statOf(p: string) {
  const st = fs.lstatSync(p);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, isDir: st.isDirectory() };
}

function sha256OrDir(p: string): string {
  return fs.lstatSync(p).isDirectory() ? 'dir' : sha256(p);
}

function unsafe(p: string): string | undefined {
  for (let q = p; ; q = path.dirname(q)) {
    const st = fs.lstatSync(q);
    if (st.uid !== 0 || (st.mode & 0o022 && !(st.mode & 0o1000))) return q;
    if (q === '/') return undefined;
  }
}

/** A helper started directly by root (no launcher), with extra environment. */
async function startDirect(helperScript: string, env: Record<string, string>): Promise<HelperClient> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await HelperClient.start({ helperScript, elevation: 'none', clientName: 'installed-test-root' });
  } finally {
    for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

interface ClientInfo {
  pid: number;
  uid: number;
  via: string;
  programs: number;
}

/** The user's client (the extension's client code) with its helper kept running; stop() ends both. */
async function startClientAsUser(
  env: Record<string, string> = {},
): Promise<{ info: ClientInfo; stop: () => Promise<void> }> {
  const child = spawn(
    'runuser',
    ['-u', user, '--', process.execPath, path.join(ext, 'client.js'), installRoot, path.join(dist, 'helper.js')],
    { cwd: '/', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/nonexistent', ...env }, stdio: 'pipe' },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    void exited.then(() => reject(new Error(`the user's client exited before its helper answered: ${stderr}`)));
  });
  return {
    info: JSON.parse(line) as ClientInfo,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
