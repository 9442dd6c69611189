// Helper process: checks what a load asks for before anything reaches the kernel (attach requests,
// global variables) and turns an attach request into the addon's target.
import * as path from 'path';
import type { AttachTarget, ObjectSpec } from '../../native/types';
import type { AttachRequest, LoadParams } from '../protocol/methods';
import { HelperFailure } from './errors';
import { checkCgroupPath, checkUprobeBinary, interfaceIndex } from './system';

/** Attach requests are checked before anything is loaded: a typo in a program name must not load the
 * object unattached, and a uprobe without a function would otherwise go to offset 0 of the binary. */
export function checkAttachRequests(params: LoadParams, wanted: string[]): void {
  for (const [name, request] of Object.entries(params.attach ?? {})) {
    if (!wanted.includes(name)) {
      throw new HelperFailure(
        { kind: 'BadInput', field: `attach.${name}`, reason: 'not a program being loaded' },
        `Cannot attach "${name}": ${path.basename(params.path)} loads no program of that name (programs loaded: ${wanted.join(', ')}).`,
      );
    }
    if (request.kind === 'uprobe') {
      if (request.func === undefined && request.offset === undefined) {
        throw new HelperFailure(
          { kind: 'BadInput', field: `attach.${name}.func`, reason: 'a uprobe needs a function or an offset' },
          `Cannot attach ${name}: a uprobe needs a function name (or an offset) in ${request.binary}.`,
        );
      }
      checkUprobeBinary(request.binary);
    }
  }
}

/** The values of global variables set before load, checked against the object's description. */
export function encodeVariables(spec: ObjectSpec, values: Record<string, string>): Record<string, Buffer> {
  const encoded: Record<string, Buffer> = {};
  for (const [name, hex] of Object.entries(values)) {
    const variable = spec.variables.find((v) => v.name === name);
    if (!variable) {
      throw new HelperFailure(
        { kind: 'BadInput', field: `variables.${name}`, reason: 'no such global variable' },
        `The object has no global variable "${name}".`,
      );
    }
    if (
      !variable.section.startsWith('.rodata') &&
      !variable.section.startsWith('.data') &&
      variable.section !== '.bss'
    ) {
      throw new HelperFailure(
        { kind: 'BadInput', field: `variables.${name}`, reason: `in section ${variable.section}` },
        `"${name}" cannot be set before load.`,
      );
    }
    const bytes = Buffer.from(hex, 'hex');
    if (bytes.length !== variable.size) {
      throw new HelperFailure(
        { kind: 'BadInput', field: `variables.${name}`, reason: `needs ${variable.size} bytes, got ${bytes.length}` },
        `"${name}" is ${variable.size} bytes long; the value given has ${bytes.length}.`,
      );
    }
    encoded[name] = bytes;
  }
  return encoded;
}

/** The addon's attach target for a request: interfaces by index, paths checked. */
export function resolveTarget(request: AttachRequest): AttachTarget {
  switch (request.kind) {
    case 'xdp':
      return { kind: 'xdp', ifindex: interfaceIndex(request.interface), mode: request.mode };
    case 'tc':
      return { kind: 'tc', ifindex: interfaceIndex(request.interface), direction: request.direction };
    case 'socket':
      return { kind: 'socket', ifindex: request.interface ? interfaceIndex(request.interface) : 0 };
    case 'cgroup':
      return { kind: 'cgroup', path: checkCgroupPath(request.path) };
    case 'uprobe':
      checkUprobeBinary(request.binary);
      return request;
    case 'none':
      throw new Error('unreachable: "none" is never attached');
    default:
      return request;
  }
}
