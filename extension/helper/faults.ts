// Fault points for the faults test tier (test/faults/): a helper whose environment names a point in
// EBPF_STUDIO_FAULT kills itself with SIGKILL when it gets there, so a test can stop it at each step of a
// load, attach, pin, unload or map edit and check what the kernel holds afterwards. Reaching a point does
// nothing else; the worst a crafted environment can do is make the helper die.
export type FaultPoint = 'load:loaded' | 'load:attached' | 'pin:partial' | 'unload:unpinned' | 'map:update';

const armed = process.env.EBPF_STUDIO_FAULT;

export function faultPoint(point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
