// The installed helper's texts (launcher, sudoers rule, polkit action) and how elevation uses the install:
// pure, no root needed. The install itself is tested as root in test/security/installed-helper.test.ts.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  isPlainPath,
  launcherScript,
  polkitPolicy,
  sudoersRule,
  POLKIT_ACTION_ID,
} from '../../extension/formats/helper-install';
import { elevationEnv, helperCommands } from '../../extension/host/client/elevation';
import { HelperInstallError, InstalledHelper } from '../../extension/host/client/installed';

const launcher = '/usr/local/lib/ebpf-studio/0.1.0/ebpf-studio-helper';
const installed = (): InstalledHelper => ({ dir: path.dirname(launcher), launcher, manifest: {} as never });

describe('installed helper: rules and launcher', () => {
  it('refuses paths that would need quoting in a rule or a script', () => {
    for (const bad of ['relative/x', '/a b', '/a,b', '/a:b', '/a=b', '/a\\b', '/a/../etc', "/a'b", '/a$b', '/a\nb'])
      assert.equal(isPlainPath(bad), false, bad);
    assert.ok(isPlainPath(launcher));
    assert.throws(() => sudoersRule('alice', '/tmp/x y'));
    assert.throws(() => sudoersRule('alice ALL=(ALL) ALL', launcher));
    assert.throws(() => polkitPolicy('/tmp/<x>', '1'));
  });

  it('a sudoers rule for exactly the launcher, without arguments, that visudo accepts', function () {
    const rule = sudoersRule('alice', launcher);
    assert.match(rule, new RegExp(`^alice ALL=\\(root\\) NOPASSWD: ${launcher} ""$`, 'm'));
    assert.equal(rule.split('\n').filter((l) => l && !l.startsWith('#')).length, 1);
    if (!fs.existsSync('/usr/sbin/visudo')) return;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sudoers-')), 'rule');
    fs.writeFileSync(file, rule, { mode: 0o440 });
    const check = spawnSync('/usr/sbin/visudo', ['-c', '-f', file], { encoding: 'utf8' });
    fs.rmSync(path.dirname(file), { recursive: true });
    assert.equal(check.status, 0, check.stderr + check.stdout);
  });

  it('a polkit action that names the launcher and asks an administrator', () => {
    const policy = polkitPolicy(launcher, '0.1.0');
    assert.match(policy, new RegExp(`<action id="${POLKIT_ACTION_ID.replace(/\./g, '\\.')}">`));
    assert.match(policy, new RegExp(`exec\\.path">${launcher}<`));
    assert.match(policy, /<allow_active>auth_admin_keep<\/allow_active>/);
    assert.doesNotMatch(policy, /<allow_\w+>yes</);
  });

  it('the launcher clears the environment and ignores its arguments', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
    // A stand-in "runtime" that prints its environment and arguments: what the helper would get.
    const runtime = path.join(dir, 'print-env');
    fs.writeFileSync(runtime, '#!/bin/sh\nenv | sort\necho "args:$*"\n', { mode: 0o755 });
    const script = path.join(dir, 'launcher');
    fs.writeFileSync(script, launcherScript(dir, runtime, false, '0.1.0'), { mode: 0o755 });
    const run = spawnSync(script, ['--inspect', 'extra'], {
      encoding: 'utf8',
      env: {
        NODE_OPTIONS: '--require /tmp/evil.js',
        EBPF_STUDIO_ADDON: '/tmp/evil.node',
        LANG: 'de_DE.UTF-8',
        LD_PRELOAD: '/x.so',
      },
    });
    fs.rmSync(dir, { recursive: true });
    assert.equal(run.status, 0, run.stderr);
    const names = run.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=')[0]);
    assert.deepEqual(
      names.filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_'),
      ['LANG', 'PATH'],
    );
    assert.match(run.stdout, /^LANG=de_DE\.UTF-8$/m);
    assert.match(run.stdout, /^PATH=\/usr\/sbin:\/usr\/bin:\/sbin:\/bin$/m);
    assert.match(
      run.stdout,
      new RegExp(`^args:${dir}/helper.js$`, 'm'),
      'only the helper, none of the caller’s arguments',
    );
  });

  it('a LANG that is not a plain locale name becomes C.UTF-8', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
    const runtime = path.join(dir, 'print-env');
    fs.writeFileSync(runtime, '#!/bin/sh\necho "LANG=$LANG"\n', { mode: 0o755 });
    const script = path.join(dir, 'launcher');
    fs.writeFileSync(script, launcherScript(dir, runtime, true, '0.1.0'), { mode: 0o755 });
    const run = spawnSync(script, [], { encoding: 'utf8', env: { LANG: 'x$(id)' } });
    fs.rmSync(dir, { recursive: true });
    assert.equal(run.stdout.trim(), 'LANG=C.UTF-8');
  });
});

describe('elevation of the installed helper', () => {
  it('elevated, runs only the launcher, with no argument and none of the host environment', () => {
    process.env.NODE_OPTIONS_TEST_MARK = '1';
    const commands = helperCommands('auto', '/usr/bin/node', '/home/a/ext/dist/helper.js', false, false, installed);
    delete process.env.NODE_OPTIONS_TEST_MARK;
    assert.ok(commands.length > 0, 'sudo or pkexec is installed here');
    for (const c of commands) {
      assert.deepEqual(c.args.slice(c.via === 'sudo' ? 1 : 0), [launcher]);
      assert.ok(!c.args.some((a) => a.includes('/home/a/ext')), 'nothing of the user’s extension directory');
      assert.deepEqual(Object.keys(c.env).sort(), Object.keys(elevationEnv()).sort());
    }
    const custom = helperCommands('doas -n', '/usr/bin/node', '/home/a/ext/dist/helper.js', false, false, installed);
    assert.deepEqual(custom[0].args, ['-n', launcher]);
  });

  it('runs dist/helper.js directly when already privileged or told not to elevate', () => {
    const notInstalled = () => {
      throw new HelperInstallError('not installed', 'missing', 'Install Helper');
    };
    const direct = helperCommands('auto', '/usr/bin/node', '/x/dist/helper.js', true, false, notInstalled);
    assert.deepEqual(
      direct.map((c) => [c.command, ...c.args]),
      [['/usr/bin/node', '/x/dist/helper.js']],
    );
    const none = helperCommands('none', '/usr/bin/node', '/x/dist/helper.js', false, false, notInstalled);
    assert.equal(none[0].via, 'none');
    // Privileged already, a command of one's own wraps the direct start: nothing is elevated.
    const wrapped = helperCommands(
      '/usr/bin/unshare --mount',
      '/usr/bin/node',
      '/x/dist/helper.js',
      true,
      false,
      notInstalled,
    );
    assert.deepEqual(
      wrapped.map((c) => [c.command, ...c.args]),
      [['/usr/bin/unshare', '--mount', '/usr/bin/node', '/x/dist/helper.js']],
    );
    assert.throws(
      () => helperCommands('sudo', '/usr/bin/node', '/x/dist/helper.js', false, false, notInstalled),
      (e: unknown) => e instanceof HelperInstallError && e.action === 'Install Helper',
    );
  });
});
