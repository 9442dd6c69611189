// dist/install-helper.js: the root-run step of `ebpf-studio install-helper` / `uninstall-helper`, started
// by the extension or the CLI through pkexec or sudo (or directly as root). A small bundle of its own: it
// imports nothing but root-step.ts and the install facts, so what an administrator authorizes is short.
import { parseArgs } from 'util';
import { DEFAULT_INSTALL_ROOT, HELPER_FILES, RUNTIME_COPY } from '../formats/helper-install';
import { install, InstallError, uninstall } from './root-step';

const usage = `Usage (as root):
  install-helper.js --from DIST --version V --runtime PATH [--copy-runtime] [--electron]
                    [--rule sudoers|polkit|none] [--user NAME] --expect FILE=SHA256...
                    [--install-root DIR] [--sudoers-dir DIR] [--polkit-dir DIR]
  install-helper.js --uninstall [--install-root DIR] [--sudoers-dir DIR] [--polkit-dir DIR]
Files expected: ${[...HELPER_FILES, RUNTIME_COPY].join(', ')}`;

function main(): number {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      version: { type: 'string' },
      runtime: { type: 'string' },
      'copy-runtime': { type: 'boolean', default: false },
      electron: { type: 'boolean', default: false },
      rule: { type: 'string', default: 'sudoers' },
      user: { type: 'string' },
      expect: { type: 'string', multiple: true, default: [] },
      'install-root': { type: 'string', default: DEFAULT_INSTALL_ROOT },
      'sudoers-dir': { type: 'string' },
      'polkit-dir': { type: 'string' },
      uninstall: { type: 'boolean', default: false },
    },
  });
  const dirs = { sudoersDir: values['sudoers-dir'], polkitDir: values['polkit-dir'] };
  if (values.uninstall) {
    const removed = uninstall({ root: values['install-root']!, ...dirs });
    process.stdout.write(JSON.stringify({ removed }) + '\n');
    return 0;
  }
  if (!values.from || !values.version || !values.runtime) {
    console.error(usage);
    return 2;
  }
  const rule = values.rule!;
  if (rule !== 'sudoers' && rule !== 'polkit' && rule !== 'none') throw new InstallError(`--rule ${rule}?`);
  const expect: Record<string, string> = {};
  for (const item of values.expect!) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InstallError(`--expect takes FILE=SHA256, got ${item}`);
    expect[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const result = install({
    from: values.from,
    root: values['install-root']!,
    version: values.version,
    user: values.user,
    rule,
    runtime: values.runtime,
    copyRuntime: values['copy-runtime']!,
    electron: values.electron!,
    expect,
    ...dirs,
  });
  process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`ebpf-studio install-helper: ${(error as Error).message}`);
  process.exitCode = 1;
}
