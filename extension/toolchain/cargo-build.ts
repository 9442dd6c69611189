// `ebpf-studio build-ebpf CRATE` (the `ebpf` task with "crate"): checks the aya toolchain, then runs the
// aya build. Missing pieces are printed as `Cargo.toml:1:1: error: …` lines so the $ebpf problem matcher
// shows them on the crate, each with the command that installs it.
import { spawn } from 'child_process';
import * as path from 'path';
import { ayaBuiltObject } from './aya-object';
import { ayaBuildCommand, ayaToolchainProblems, describeCargoProject } from './cargo';

export async function buildAyaCrate(root: string): Promise<number> {
  const manifest = path.join(root, 'Cargo.toml');
  const project = describeCargoProject(root);
  if (!project) {
    console.log(`${manifest}:1:1: error: no Cargo.toml here: give the folder of the aya eBPF crate`);
    return 1;
  }
  if (project.kind !== 'aya-ebpf') {
    console.log(`${manifest}:1:1: error: ${project.name ?? root} does not depend on aya-ebpf: not an aya eBPF crate`);
    return 1;
  }
  const problems = await ayaToolchainProblems();
  for (const p of problems) console.log(`${manifest}:1:1: error: ${p.what}; install it with: ${p.install}`);
  if (problems.length > 0) return 1;
  const { command, args, env } = ayaBuildCommand();
  console.log(`${command} ${args.join(' ')}`);
  const code = await new Promise<number>((resolve) =>
    spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' })
      .on('error', () => resolve(127))
      .on('close', (c) => resolve(c ?? 1)),
  );
  // The editor offers this object to eBPF: Load Program when the task ends (features/build/tasks.ts).
  const built = code === 0 ? ayaBuiltObject(project, 'release') : undefined;
  if (built) console.log(`built ${built}: load it with eBPF: Load Program`);
  return code;
}
