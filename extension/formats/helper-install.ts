// The installed, root-owned helper (issue 9): where it lives, what its manifest says, and the text of
// the launcher, sudoers rule and polkit policy that name it. Pure: the extension side checks an install
// with these facts, and the root-run installer writes them; neither keeps a copy of its own.
/** Where `ebpf-studio install-helper` puts each version: <root>/<version>/. */
export const DEFAULT_INSTALL_ROOT = '/usr/local/lib/ebpf-studio';

/** What the helper needs at run time, relative to the extension's dist/ (and to the install directory). */
export const HELPER_FILES = ['helper.js', 'probes.bpf.o', 'native/ebpf_studio.node', 'native/libbpf.so.1'] as const;

/** The one command an elevation rule names: a script that runs the installed helper with a fixed environment. */
export const LAUNCHER = 'ebpf-studio-helper';
export const MANIFEST = 'manifest.json';
/** A copy of the runtime, made when the extension host's own is not root-owned. */
export const RUNTIME_COPY = 'node';

/** The helper's PATH when installed: system directories only. */
export const HELPER_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment variables an installed helper keeps; everything else (NODE_OPTIONS, LD_PRELOAD,
 * EBPF_STUDIO_ADDON, EBPF_STUDIO_FAULT, ...) is dropped before the runtime starts. The helper reads none
 * of its own EBPF_STUDIO_* variables when installed: those exist for tests run from the repository.
 */
export const HELPER_ENV_ALLOWED = ['PATH', 'LANG', 'ELECTRON_RUN_AS_NODE'] as const;

export const POLKIT_ACTION_ID = 'org.ebpfstudio.helper';
export const POLKIT_POLICY_FILE = `${POLKIT_ACTION_ID}.policy`;
export const DEFAULT_POLKIT_DIR = '/usr/share/polkit-1/actions';
export const DEFAULT_SUDOERS_DIR = '/etc/sudoers.d';
/** First line of every rule file the installer writes: uninstall removes only files that carry it. */
export const RULE_MARKER = 'Written by ebpf-studio install-helper';

export type RuleKind = 'sudoers' | 'polkit';

/** manifest.json of an install (checked against a schema where it is read, in the extension). */
export interface InstallManifest {
  name: 'ebpf-studio-helper';
  version: string;
  installedAt: string;
  runtime: {
    /** Absolute path of the runtime the launcher runs. */
    path: string;
    /** True when it is this install's own copy (then it is in `files`); else a root-owned system runtime. */
    copied: boolean;
    /** An Electron binary (VS Code's), run as Node through ELECTRON_RUN_AS_NODE. */
    electron: boolean;
  };
  /** sha256 (hex) of every file of the install but the manifest, by path relative to the install directory. */
  files: Record<string, string>;
}

/** Paths the rules and the launcher name: absolute, plain characters only, so no quoting is ever needed. */
export function isPlainPath(p: string): boolean {
  return /^\/[A-Za-z0-9._+/-]*$/.test(p) && !p.split('/').some((part) => part === '..' || part === '.');
}

export function isPlainVersion(v: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/.test(v) && !v.includes('..');
}

export function isPlainUser(u: string): boolean {
  return /^[a-z_][a-z0-9_.-]{0,31}$/i.test(u);
}

/** The install directory of a version. */
export function versionDir(root: string, version: string): string {
  return `${root.replace(/\/+$/, '')}/${version}`;
}

/**
 * The launcher: a root-owned script that ignores its arguments and its environment (but a plain LANG) and
 * runs the installed helper. `-p` keeps a bash-as-sh from importing SHELLOPTS/BASH_ENV should an elevation
 * tool ever pass the caller's environment through.
 */
export function launcherScript(dir: string, runtime: string, electron: boolean, version: string): string {
  for (const p of [dir, runtime]) if (!isPlainPath(p)) throw new Error(`not a plain absolute path: ${p}`);
  return [
    '#!/bin/sh -p',
    `# eBPF Studio privileged helper ${version}, installed by \`ebpf-studio install-helper\`.`,
    '# Runs the root-owned helper beside this file with a fixed environment; arguments are ignored.',
    'case "${LANG-}" in \'\'|*[!A-Za-z0-9_.@-]*) LANG=C.UTF-8 ;; esac',
    `exec /usr/bin/env -i PATH=${HELPER_PATH} "LANG=$LANG"${electron ? ' ELECTRON_RUN_AS_NODE=1' : ''} ${runtime} ${dir}/helper.js`,
    '',
  ].join('\n');
}

/**
 * A sudoers rule for exactly the launcher, without arguments (`""`), for one user. Characters sudoers treats
 * specially in a command (`,:=\`) cannot occur: the path is plain.
 */
export function sudoersRule(user: string, launcher: string): string {
  if (!isPlainUser(user)) throw new Error(`not a plain user name: ${user}`);
  if (!isPlainPath(launcher)) throw new Error(`not a plain absolute path: ${launcher}`);
  return `# ${RULE_MARKER}: the eBPF Studio helper for ${user}, and nothing else.\n${user} ALL=(root) NOPASSWD: ${launcher} ""\n`;
}

export function sudoersFileName(user: string): string {
  return `ebpf-studio-${user.replace(/\./g, '_')}`;
}

/** A polkit action for exactly the launcher; an administrator authenticates, kept for a few minutes. */
export function polkitPolicy(launcher: string, version: string): string {
  if (!isPlainPath(launcher)) throw new Error(`not a plain absolute path: ${launcher}`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- ${RULE_MARKER} (eBPF Studio ${version}). -->
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <vendor>eBPF Studio</vendor>
  <action id="${POLKIT_ACTION_ID}">
    <description>Run the eBPF Studio helper (loads and inspects BPF programs)</description>
    <message>Authentication is required to run the eBPF Studio helper as root</message>
    <defaults>
      <allow_any>auth_admin</allow_any>
      <allow_inactive>auth_admin</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">${launcher}</annotate>
  </action>
</policyconfig>
`;
}
